package oauth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// Decision is who a credential speaks for, when /check admits it (A10).
type Decision struct {
	OrgID       string
	SubjectType tollgate.PrincipalType // tollgate.PrincipalServiceAccount, or PrincipalUser for a legacy token
	SubjectID   string
	SubjectName string // the service account's name, or the user's email
	Role        string
	Credential  string                 // the API token's ID, or the access token's jti
	Kind        tollgate.PrincipalType // tollgate.PrincipalAPIToken or PrincipalAccessToken
	Public      bool                   // a public API token: the origin was checked
}

// CheckError is a refusal: Status 401 (no usable credential: missing,
// malformed, unknown, expired, revoked, or its account disabled) or 403 (a
// public token from an origin it does not list, or with no origin).
type CheckError struct {
	Status int
	Reason string
}

func (e *CheckError) Error() string { return e.Reason }

func unauthorized(reason string) error { return &CheckError{Status: 401, Reason: reason} }

// credEntry is a cached, already verified credential.
type credEntry struct {
	loadedAt time.Time
	d        Decision
	expires  time.Time // zero: never
	owner    string    // service account ID, for status checks and Forget
	domains  []string  // public tokens
	claims   *Claims   // access tokens
}

// maxCachedCreds bounds the credential cache.
const maxCachedCreds = 100_000

// Check decides whether bearer may be used from origin (canonical, "" when
// the request has none): API tokens (tgp_, tgq_, or an imported legacy
// string) and access tokens from the token endpoint are accepted. A
// verified credential is cached for CacheTTL; revocations made through this
// process drop it at once, and every use re-checks its account's status.
func (s *Service) Check(ctx context.Context, bearer, origin string) (*Decision, error) {
	e, c, err := s.credential(ctx, bearer)
	if err != nil {
		return nil, err
	}
	if c != nil && e.d.Kind == tollgate.PrincipalAccessToken {
		d := e.d
		d.Role = string(c.sa.Role) // the account's current role
		return s.admitAndRecord(&d, e, origin)
	}
	return s.admitAndRecord(&e.d, e, origin)
}

// credential returns the verified, cached entry of bearer and, for
// credentials of a service account, the account's current state: it is
// refused (a *CheckError) when unknown, expired, revoked, or its account
// is disabled or gone.
func (s *Service) credential(ctx context.Context, bearer string) (*credEntry, *client, error) {
	bearer = strings.TrimSpace(bearer)
	if bearer == "" {
		return nil, nil, unauthorized("no bearer token")
	}
	if len(bearer) > 8192 {
		return nil, nil, unauthorized("malformed token")
	}
	key := string(s.keyring.Hash(bearer))
	now := s.clock.Now()
	s.mu.Lock()
	e := s.creds[key]
	s.mu.Unlock()
	if e == nil || now.Sub(e.loadedAt) >= s.cfg.CacheTTL {
		var err error
		if e, err = s.loadCred(ctx, bearer, []byte(key)); err != nil {
			return nil, nil, err
		}
		e.loadedAt = now
		s.mu.Lock()
		if len(s.creds) >= maxCachedCreds {
			for k := range s.creds {
				delete(s.creds, k)
				if len(s.creds) < maxCachedCreds*9/10 {
					break
				}
			}
		}
		s.creds[key] = e
		s.mu.Unlock()
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return nil, nil, unauthorized("the token has expired")
	}
	if e.owner == "" {
		return e, nil, nil
	}
	c, err := s.client(ctx, e.owner)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, unauthorized("the token's service account was deleted")
	} else if err != nil {
		return nil, nil, err
	}
	if c.sa.Status != tollgate.StatusActive {
		return nil, nil, unauthorized("the token's service account is disabled")
	}
	return e, c, nil
}

func (s *Service) admitAndRecord(d *Decision, e *credEntry, origin string) (*Decision, error) {
	d, err := s.admit(d, e, origin)
	if err == nil {
		s.record(d, e, origin)
	}
	return d, err
}

// admit applies the origin rule of public tokens (A4).
func (s *Service) admit(d *Decision, e *credEntry, origin string) (*Decision, error) {
	if !d.Public {
		return d, nil
	}
	if origin == "" {
		return nil, &CheckError{Status: 403, Reason: "a public token is accepted only from its listed origins, and this request has no Origin or Referer"}
	}
	if !slices.Contains(e.domains, origin) {
		return nil, &CheckError{Status: 403, Reason: "this public token does not list the origin " + origin}
	}
	return d, nil
}

// record notes an admitted use for the batched last-used times.
func (s *Service) record(d *Decision, e *credEntry, origin string) {
	token := ""
	if d.Kind == tollgate.PrincipalAPIToken {
		token = d.Credential
	}
	s.used(token, e.owner, origin)
}

// loadCred verifies a credential against the store.
func (s *Service) loadCred(ctx context.Context, bearer string, hash []byte) (*credEntry, error) {
	switch {
	case strings.HasPrefix(bearer, credential.PrefixPrivateToken), strings.HasPrefix(bearer, credential.PrefixPublicToken):
		if !credential.ValidCredential(bearer[:4], bearer) {
			return nil, unauthorized("malformed token")
		}
	case strings.Count(bearer, ".") == 2:
		return s.loadAccessToken(ctx, bearer)
	case len(bearer) < tollgate.MinLegacyTokenLength || len(bearer) > tollgate.MaxLegacyTokenLength:
		return nil, unauthorized("malformed token")
	}
	t, err := s.store.GetAPITokenByHash(ctx, hash)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, unauthorized("unknown or revoked token")
	} else if err != nil {
		return nil, err
	}
	e := &credEntry{d: Decision{OrgID: t.OrgID, SubjectType: t.OwnerType, SubjectID: t.OwnerID, SubjectName: t.OwnerName, Role: string(t.Role), Credential: t.ID,
		Kind: tollgate.PrincipalAPIToken, Public: t.Kind == tollgate.KindPublic}, domains: t.Domains}
	if t.ExpiresAt != nil {
		e.expires = *t.ExpiresAt
	}
	if t.OwnerType == tollgate.PrincipalServiceAccount {
		e.owner = t.OwnerID
		return e, nil
	}
	// A legacy token works while its user is still a member.
	if _, err := s.store.GetMember(ctx, t.OrgID, t.OwnerID); tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, unauthorized("the token's owner is no longer a member")
	} else if err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Service) loadAccessToken(ctx context.Context, bearer string) (*credEntry, error) {
	cl, rec, owner, err := s.lookup(ctx, bearer)
	if err != nil {
		return nil, err
	}
	if cl == nil || rec.RevokedAt != nil {
		return nil, unauthorized("unknown, expired or revoked access token")
	}
	return &credEntry{d: Decision{OrgID: owner.org.ID, SubjectType: tollgate.PrincipalServiceAccount, SubjectID: owner.sa.ID,
		SubjectName: owner.sa.Name, Role: string(owner.sa.Role), Credential: rec.ID, Kind: tollgate.PrincipalAccessToken},
		expires: rec.ExpiresAt, owner: owner.sa.ID, claims: cl}, nil
}

// ForgetCredential drops a cached credential by its keyed hash (the app
// calls it when an API token is changed or revoked).
func (s *Service) ForgetCredential(hash []byte) {
	s.mu.Lock()
	delete(s.creds, string(hash))
	s.mu.Unlock()
}

// IsCheckError reports whether err is a refusal, and its status.
func IsCheckError(err error) (*CheckError, bool) {
	var ce *CheckError
	ok := errors.As(err, &ce)
	return ce, ok
}

// PreflightAllowed reports whether a CORS preflight from origin may pass:
// some public token lists it. Answers are cached for CacheTTL.
func (s *Service) PreflightAllowed(ctx context.Context, origin string) (bool, error) {
	if origin == "" {
		return false, nil
	}
	now := s.clock.Now()
	s.mu.Lock()
	p, ok := s.preflight[origin]
	s.mu.Unlock()
	if ok && now.Sub(p.at) < s.cfg.CacheTTL {
		return p.ok, nil
	}
	listed, err := s.store.PublicOriginListed(ctx, origin)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if len(s.preflight) >= maxCachedCreds {
		clear(s.preflight)
	}
	s.preflight[origin] = preflightEntry{at: now, ok: listed}
	s.mu.Unlock()
	return listed, nil
}

type preflightEntry struct {
	at time.Time
	ok bool
}
