package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// server runs a Tollgate stack for t on a loopback port and returns its
// URL and the stack.
func server(t *testing.T, env *stacktest.Env) string {
	t.Helper()
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// signedIn returns a client acting as the bootstrap super admin through a
// session cookie.
func signedIn(t *testing.T, url string) *client.Admin {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	c, err := client.New(url, "", client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Decode[client.Session](c.SignIn(t.Context(), client.SignInJSONRequestBody{Email: "admin@example.com", Password: stacktest.AdminPassword})); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAdmin drives the hand-written calls against a real server on each
// store: create an account, rotate its secret, create a token, reassign a
// member's token, page through lists, and read every refusal as a typed
// error with its code and field.
func TestAdmin(t *testing.T) {
	for name, env := range stacktest.Stores(t, stacktest.Options{}) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			url := server(t, env)
			c := signedIn(t, url)

			sa, err := c.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "ci-runner", Description: "CI", Role: client.CredentialRoleMember, TokenTTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sa.ClientSecret, "tgs_") || sa.TokenTtlSeconds != 3600 || sa.Role != client.CredentialRoleMember || sa.Status != client.ServiceAccountStatusActive {
				t.Fatalf("created %+v", sa)
			}

			rot, err := c.RotateSecret(ctx, "acme", sa.Id, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if rot.ClientSecret == sa.ClientSecret || !strings.HasPrefix(rot.ClientSecret, "tgs_") || rot.PreviousSecretExpiresAt == nil {
				t.Fatalf("rotation %+v", rot)
			}
			if d := time.Until(*rot.PreviousSecretExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
				t.Fatalf("previous secret expires in %v, want about 10m", d)
			}

			tok, err := c.CreateAPIToken(ctx, "acme", client.NewAPIToken{Name: "deploy", ServiceAccountID: sa.Id, Kind: client.APITokenKindPublic, Domains: []string{"https://app.example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.Token, "tgq_") || tok.Owner.Id != sa.Id || tok.Role != client.CredentialRoleViewer {
				t.Fatalf("token %+v", tok)
			}

			// A member's legacy token, moved to the account.
			me, err := client.Decode[client.Session](c.GetMe(ctx))
			if err != nil {
				t.Fatal(err)
			}
			legacy, err := client.Decode[client.APITokenWithSecret](c.ImportAPIToken(ctx, "acme", client.ImportAPITokenJSONRequestBody{
				Name: "legacy", OwnerUserId: me.User.Id, Token: "legacy-0123456789abcdef0123456789abcdef", Kind: client.APITokenKindPrivate}))
			if err != nil {
				t.Fatal(err)
			}
			moved, err := c.ReassignAPIToken(ctx, "acme", legacy.Id, sa.Id)
			if err != nil {
				t.Fatal(err)
			}
			if moved.Owner.Type != client.OwnerTypeServiceAccount || moved.Owner.Id != sa.Id || moved.Role != client.CredentialRoleMember {
				t.Fatalf("reassigned %+v", moved)
			}

			var names []string
			for it, err := range c.APITokens(ctx, "acme", client.ListAPITokensParams{OwnerId: &sa.Id}) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, it.Name)
			}
			if len(names) != 2 {
				t.Fatalf("tokens of the account: %v", names)
			}

			// Refusals, each an *Error with the problem's code and field.
			_, err = c.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "has space", Role: client.CredentialRoleViewer, TokenTTL: time.Hour})
			wantError(t, err, http.StatusUnprocessableEntity, client.ProblemCodeInvalid, "name")
			_, err = c.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "CI-RUNNER", Role: client.CredentialRoleViewer, TokenTTL: time.Hour})
			wantError(t, err, http.StatusConflict, client.ProblemCodeConflict, "name")
			_, err = c.RotateSecret(ctx, "acme", "sa_00000000000000000000000000", 0)
			wantError(t, err, http.StatusNotFound, client.ProblemCodeNotFound, "")
			_, err = c.CreateAPIToken(ctx, "acme", client.NewAPIToken{Name: "x", ServiceAccountID: sa.Id, Kind: client.APITokenKindPublic, Domains: []string{"https://*.example.com"}})
			wantError(t, err, http.StatusUnprocessableEntity, client.ProblemCodeInvalid, "domains")
			_, err = c.ReassignAPIToken(ctx, "other-org", legacy.Id, sa.Id)
			wantError(t, err, http.StatusNotFound, client.ProblemCodeNotFound, "")

			// A machine credential acts with its own role: a member token
			// may not create accounts, and a wrong token is refused.
			unknown, err := client.New(url, stacktest.UnknownAPIToken())
			if err != nil {
				t.Fatal(err)
			}
			_, err = unknown.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "nope", Role: client.CredentialRoleViewer, TokenTTL: time.Hour})
			wantError(t, err, http.StatusUnauthorized, client.ProblemCodeUnauthenticated, "")
			private, err := c.CreateAPIToken(ctx, "acme", client.NewAPIToken{Name: "private", ServiceAccountID: sa.Id, Kind: client.APITokenKindPrivate})
			if err != nil {
				t.Fatal(err)
			}
			member, _ := client.New(url, private.Token)
			_, err = member.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "nope", Role: client.CredentialRoleViewer, TokenTTL: time.Hour})
			wantError(t, err, http.StatusForbidden, client.ProblemCodeForbidden, "")
			got, err := client.Decode[client.ServiceAccount](member.GetServiceAccount(ctx, "acme", sa.Id))
			if err == nil {
				t.Fatalf("a member token read a service account: %+v", got)
			}
			if !client.HasCode(err, client.ProblemCodeForbidden) {
				t.Fatalf("member reading an account: %v", err)
			}
		})
	}
}

// TestPagesFollowCursors: the iterators walk every page, in order, with no
// item twice.
func TestPagesFollowCursors(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	c := signedIn(t, server(t, env))
	ctx := t.Context()
	want := 1 // the stack's own account
	for i := range 230 {
		if _, err := c.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: fmt.Sprintf("sa-%03d", i), Role: client.CredentialRoleViewer, TokenTTL: 5 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		want++
	}
	seen := map[string]bool{}
	for sa, err := range c.ServiceAccounts(ctx, "acme") {
		if err != nil {
			t.Fatal(err)
		}
		if seen[sa.Id] {
			t.Fatalf("%s twice", sa.Id)
		}
		seen[sa.Id] = true
	}
	if len(seen) != want {
		t.Fatalf("walked %d accounts, want %d", len(seen), want)
	}
	// Stopping early stops paging.
	n := 0
	for range c.ServiceAccounts(ctx, "acme") {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("stopped after %d", n)
	}
	// An error ends the walk with that error.
	var errs []error
	for _, err := range c.ServiceAccounts(ctx, "no-such-org") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !client.HasCode(errs[0], client.ProblemCodeNotFound) {
		t.Fatalf("walking an org that does not exist: %v", errs)
	}
}

// TestErrorOfAnythingElse: an answer that is not a problem document (from
// a proxy, say) still becomes an *Error with the code of its status, and a
// transport failure stays what it is.
func TestErrorOfAnythingElse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "tgp_x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateSecret(context.Background(), "acme", "sa_x", 0)
	var e *client.Error
	if !errors.As(err, &e) || e.StatusCode != 429 || e.Code != client.ProblemCodeRateLimited || e.RetryAfter != 7*time.Second {
		t.Fatalf("%#v", err)
	}
	srv.Close()
	_, err = c.RotateSecret(context.Background(), "acme", "sa_x", 0)
	if err == nil || errors.As(err, &e) {
		t.Fatalf("closed server: %v", err)
	}
	if _, err := client.New(srv.URL, "a\nb"); err == nil {
		t.Fatal("a token with a line break was accepted")
	}
}

func wantError(t *testing.T, err error, status int, code client.ProblemCode, field string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error %d %s, got %v", status, code, err)
	}
	if e.StatusCode != status || e.Code != code || e.Field != field || e.Detail == "" {
		t.Fatalf("want %d %s field %q, got %#v", status, code, field, e)
	}
	if field != "" && !strings.Contains(e.Error(), field) {
		t.Fatalf("the message does not name the field: %s", e.Error())
	}
}
