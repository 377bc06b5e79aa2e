package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// UserAgent is sent with every request of an Admin, so that the server's
// audit log shows what made a change.
const UserAgent = "tollgate-go-client"

// maxBody bounds how much of an answer Decode and Raw read: the largest
// page of 200 items is far below it.
const maxBody = 16 << 20

// Admin is a client of one Tollgate server. Its methods act with the
// credential given to New; the generated *Client it embeds reaches every
// other operation.
type Admin struct {
	*Client
}

// New returns a client of the Tollgate at server (its base URL, such as
// https://tollgate.example.com) that sends token as a bearer credential:
// an API token or access token, which acts in its organization with its
// role, or a "tollgate login" credential, which acts as the person who
// approved it. With token "" it sends none, for a caller whose HTTP client
// (WithHTTPClient) carries a session cookie.
func New(server, token string, opts ...ClientOption) (*Admin, error) {
	if strings.ContainsAny(token, "\r\n") {
		return nil, errors.New("client: the token holds a line break")
	}
	auth := func(_ context.Context, req *http.Request) error {
		req.Header.Set("User-Agent", UserAgent)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}
	c, err := NewClient(server, append([]ClientOption{WithRequestEditorFn(auth)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Admin{Client: c}, nil
}

// Error is a refusal from the server: an RFC 9457 problem of the admin API
// ({type,title,status,detail,code,field}), or the RFC 6749 error of an
// OAuth endpoint (Code is then its error, such as invalid_client).
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the problem's code: invalid, unauthenticated, forbidden,
	// not_found, conflict, immutable, rate_limited or internal.
	Code ProblemCode
	// Field names the input that broke a rule ("name", "domains[0]"),
	// or is empty.
	Field string
	// Title and Detail are the problem's; Detail says which rule broke.
	Title  string
	Detail string
	// RetryAfter is how long a rate-limited caller should wait.
	RetryAfter time.Duration
}

// Error is one line: the detail, then the field and code in brackets.
func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s (field %s, %s)", msg, e.Field, e.Code)
	}
	return fmt.Sprintf("%s (%s)", msg, e.Code)
}

// HasCode reports whether err is, or wraps, an *Error with that code.
func HasCode(err error, code ProblemCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Decode reads the answer of a generated Client call: a 2xx answer's JSON
// body as a T, or the refusal as an *Error. It closes the body. Its
// parameters are the generated calls' results, so that calls read as
//
//	sa, err := client.Decode[client.ServiceAccount](c.GetServiceAccount(ctx, org, id))
func Decode[T any](rsp *http.Response, err error) (*T, error) {
	body, err := read(rsp, err)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("client: %s %s answered %d with a body that is not the documented JSON: %w", rsp.Request.Method, rsp.Request.URL.Path, rsp.StatusCode, err)
	}
	return &v, nil
}

// NoContent reads the answer of a generated Client call that answers
// without a body (204): nil, or the refusal as an *Error.
func NoContent(rsp *http.Response, err error) error {
	_, err = read(rsp, err)
	return err
}

// Stream returns the body of a 2xx answer of a generated Client call for
// the caller to read and close, such as a long audit export; a refusal is
// an *Error.
func Stream(rsp *http.Response, err error) (io.ReadCloser, error) {
	if err != nil {
		return nil, err
	}
	if rsp.StatusCode >= 200 && rsp.StatusCode < 300 {
		return rsp.Body, nil
	}
	_, err = read(rsp, nil)
	return nil, err
}

// Raw reads the answer of a generated Client call whose body is not JSON,
// such as the audit export's NDJSON: the body of a 2xx answer, or the
// refusal as an *Error.
func Raw(rsp *http.Response, err error) ([]byte, error) { return read(rsp, err) }

// read returns a 2xx answer's body, or the refusal as an *Error.
func read(rsp *http.Response, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(rsp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("client: %s %s answered more than %d MiB; read it with Stream", rsp.Request.Method, rsp.Request.URL.Path, maxBody>>20)
	}
	if rsp.StatusCode >= 200 && rsp.StatusCode < 300 {
		return body, nil
	}
	return nil, problemOf(rsp, body)
}

// problemOf turns a refusal into an *Error, from a problem document, an
// OAuth error, or (from a proxy in front of the server, say) just its
// status.
func problemOf(rsp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: rsp.StatusCode, Code: codeOfStatus(rsp.StatusCode)}
	if s, err := strconv.Atoi(rsp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	media, _, _ := mime.ParseMediaType(rsp.Header.Get("Content-Type"))
	switch media {
	case "application/problem+json":
		var p Problem
		if json.Unmarshal(body, &p) == nil {
			if p.Code != "" {
				e.Code = p.Code
			}
			e.Title, e.Detail = p.Title, p.Detail
			if p.Field != nil {
				e.Field = *p.Field
			}
		}
	case "application/json":
		var o struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &o) == nil && o.Error != "" {
			e.Code, e.Title, e.Detail = ProblemCode(o.Error), o.Error, o.Description
		}
	}
	return e
}

// codeOfStatus is the problem code a bare status stands for.
func codeOfStatus(status int) ProblemCode {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return ProblemCodeInvalid
	case http.StatusUnauthorized:
		return ProblemCodeUnauthenticated
	case http.StatusForbidden:
		return ProblemCodeForbidden
	case http.StatusNotFound:
		return ProblemCodeNotFound
	case http.StatusConflict:
		return ProblemCodeConflict
	case http.StatusTooManyRequests:
		return ProblemCodeRateLimited
	}
	return ProblemCodeInternal
}

// NewServiceAccount is what CreateServiceAccount makes. Name and TokenTTL
// cannot be changed later.
type NewServiceAccount struct {
	// Name is 1–20 letters, digits, '-' and '_', unique in the org
	// ignoring case.
	Name        string
	Description string
	Role        CredentialRole
	// TokenTTL is the lifetime of the access tokens the account gets, 5
	// minutes to 30 days, in whole seconds.
	TokenTTL time.Duration
}

// CreateServiceAccount creates a service account in org (a super_admin
// call). The answer carries its client secret, which is shown only here.
func (a *Admin) CreateServiceAccount(ctx context.Context, org string, sa NewServiceAccount) (*ServiceAccountWithSecret, error) {
	body := CreateServiceAccountJSONRequestBody{Name: sa.Name, Role: sa.Role, TokenTtlSeconds: seconds(sa.TokenTTL)}
	if sa.Description != "" {
		body.Description = &sa.Description
	}
	return Decode[ServiceAccountWithSecret](a.Client.CreateServiceAccount(ctx, org, body))
}

// RotateSecret gives the service account id a new client secret, shown
// only in the answer. The previous secret keeps working for grace (0: it
// stops at once), so that deployments can roll over.
func (a *Admin) RotateSecret(ctx context.Context, org, id string, grace time.Duration) (*SecretRotation, error) {
	g := seconds(grace)
	return Decode[SecretRotation](a.Client.RotateServiceAccountSecret(ctx, org, id, RotateServiceAccountSecretJSONRequestBody{GracePeriodSeconds: &g}))
}

// NewAPIToken is what CreateAPIToken makes.
type NewAPIToken struct {
	Name        string
	Description string
	// ServiceAccountID owns the token.
	ServiceAccountID string
	Kind             APITokenKind
	// Domains are the exact web origins a public token is accepted from,
	// such as https://app.example.com.
	Domains []string
	// Role is at most the owner's; "" takes the default (viewer for a
	// public token, the owner's role for a private one).
	Role CredentialRole
	// ExpiresAt is when the token stops working; zero for never (unless
	// the org's policy requires an expiry).
	ExpiresAt time.Time
}

// CreateAPIToken creates an API token owned by a service account (a
// super_admin call). The answer carries the token, which is shown only
// here.
func (a *Admin) CreateAPIToken(ctx context.Context, org string, t NewAPIToken) (*APITokenWithSecret, error) {
	body := CreateAPITokenJSONRequestBody{Name: t.Name, ServiceAccountId: t.ServiceAccountID, Kind: t.Kind}
	if t.Description != "" {
		body.Description = &t.Description
	}
	if t.Domains != nil {
		body.Domains = &t.Domains
	}
	if t.Role != "" {
		role := string(t.Role)
		body.Role = &role
	}
	if !t.ExpiresAt.IsZero() {
		body.ExpiresAt = &t.ExpiresAt
	}
	return Decode[APITokenWithSecret](a.Client.CreateAPIToken(ctx, org, body))
}

// ReassignAPIToken moves the API token id (a member's, or another
// account's) to the service account serviceAccountID, keeping its value:
// whoever uses it sees no change. A role above the new owner's is lowered
// to it.
func (a *Admin) ReassignAPIToken(ctx context.Context, org, id, serviceAccountID string) (*APIToken, error) {
	return Decode[APIToken](a.Client.ReassignAPIToken(ctx, org, id, ReassignAPITokenJSONRequestBody{ServiceAccountId: serviceAccountID}))
}

// ServiceAccounts yields every service account of org, a page at a time,
// in creation order; it stops at the first error, which it yields.
func (a *Admin) ServiceAccounts(ctx context.Context, org string) iter.Seq2[ServiceAccount, error] {
	return pages(func(cursor *string) ([]ServiceAccount, *string, error) {
		l, err := Decode[ServiceAccountList](a.ListServiceAccounts(ctx, org, &ListServiceAccountsParams{Limit: ptr(200), Cursor: cursor}))
		if err != nil {
			return nil, nil, err
		}
		return l.Items, l.NextCursor, nil
	})
}

// APITokens yields every API token of org that params selects (owner,
// kind; its Limit and Cursor are the pager's), a page at a time.
func (a *Admin) APITokens(ctx context.Context, org string, params ListAPITokensParams) iter.Seq2[APIToken, error] {
	return pages(func(cursor *string) ([]APIToken, *string, error) {
		params.Limit, params.Cursor = ptr(200), cursor
		l, err := Decode[APITokenList](a.ListAPITokens(ctx, org, &params))
		if err != nil {
			return nil, nil, err
		}
		return l.Items, l.NextCursor, nil
	})
}

// Members yields every member of org, a page at a time, by join time.
func (a *Admin) Members(ctx context.Context, org string) iter.Seq2[Member, error] {
	return pages(func(cursor *string) ([]Member, *string, error) {
		l, err := Decode[MemberList](a.ListMembers(ctx, org, &ListMembersParams{Limit: ptr(200), Cursor: cursor}))
		if err != nil {
			return nil, nil, err
		}
		return l.Items, l.NextCursor, nil
	})
}

// AuditEvents yields the audit events of org that params selects (actor,
// action, target, time range; its Limit and Cursor are the pager's),
// newest first, a page at a time.
func (a *Admin) AuditEvents(ctx context.Context, org string, params ListAuditEventsParams) iter.Seq2[AuditEvent, error] {
	return pages(func(cursor *string) ([]AuditEvent, *string, error) {
		params.Limit, params.Cursor = ptr(200), cursor
		l, err := Decode[AuditEventList](a.ListAuditEvents(ctx, org, &params))
		if err != nil {
			return nil, nil, err
		}
		return l.Items, l.NextCursor, nil
	})
}

// pages yields the items of the pages next returns, from the first
// (cursor nil) until a page without a next cursor, or the first error.
func pages[T any](next func(cursor *string) ([]T, *string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var cursor *string
		for {
			items, nextCursor, err := next(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if nextCursor == nil || *nextCursor == "" {
				return
			}
			cursor = nextCursor
		}
	}
}

func seconds(d time.Duration) int { return int(d / time.Second) }

func ptr[T any](v T) *T { return &v }
