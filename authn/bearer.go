package authn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/oauth"
)

// credEntry is a bearer credential verified against the store: an API
// token (tgp_, tgq_ or an imported legacy string) or an access token. What
// derives from its owner (status, role) is read from the owner's own
// cache entry at every use, so that a change to the owner applies at once.
type credEntry struct {
	kind      tollgate.CredentialKind
	id        string // API token ID or jti
	orgID     string
	role      tollgate.Role // the API token's own role; "" for access tokens
	public    bool
	domains   []string
	expires   time.Time // zero: never
	ownerType tollgate.PrincipalType
	ownerID   string
	ownerName string
	claims    *oauth.Claims
}

// errNoBearer and friends are the refusals of bearer credentials.
var (
	errNoBearer  = tollgate.Errorf(tollgate.EUnauthenticated, "no bearer token")
	errMalformed = tollgate.Errorf(tollgate.EUnauthenticated, "malformed token")
	errUnknown   = tollgate.Errorf(tollgate.EUnauthenticated, "unknown, expired or revoked token")
	// errCLIElsewhere: a person's tollgate login credential acts on the
	// admin API only, never at /check or an OAuth endpoint.
	errCLIElsewhere = tollgate.Errorf(tollgate.EUnauthenticated, "a tollgate login credential (tgc_) works on the admin API only")
)

// Bearer resolves the bearer credential of a /check request (A10) from
// its Authorization header and origin. The caller is the credential's
// owner, acting with the credential's effective role. Errors:
// EUnauthenticated for a missing, malformed, unknown, expired or revoked
// credential or one whose owner is disabled or gone; EForbidden for a
// public token from an origin it does not list (A4); ERateLimited for an
// address over its limit of unknown credentials.
func (a *Authenticator) Bearer(ctx context.Context, req Request) (app.Actor, error) {
	ctx, span := tracer.Start(ctx, "authn.Bearer")
	defer span.End()
	scheme, tok, ok := tokenScheme(req.Authorization)
	if !ok {
		return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "send Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)")
	}
	return a.resolve(ctx, req, tok, scheme)
}

// tokenScheme splits an Authorization header that presents a token:
// scheme Bearer (RFC 6750) or DPoP (RFC 9449 §7.1), as "Bearer" or
// "DPoP"; ok is false for any other.
func tokenScheme(authorization string) (scheme, token string, ok bool) {
	scheme, token, ok = strings.Cut(authorization, " ")
	switch {
	case !ok:
		return "", "", false
	case strings.EqualFold(scheme, "Bearer"):
		return "Bearer", token, true
	case strings.EqualFold(scheme, oauth.TokenTypeDPoP):
		return oauth.TokenTypeDPoP, token, true
	}
	return "", "", false
}

// Inspect resolves a token named in an introspection or revocation request
// by an authenticated client. It returns nil, without counting a failure,
// for a token that is not a live credential; the origin rule does not
// apply (the token is not being used, only asked about). A DPoP-bound
// token is live without a proof (introspection then tells its cnf, RFC
// 9449 §6.2); when the request carries a DPoP proof, forwarded with the
// method and URI it signs, the proof must be valid for the token.
func (a *Authenticator) Inspect(ctx context.Context, req Request, token string) (*app.Credential, error) {
	ctx, span := tracer.Start(ctx, "authn.Inspect")
	defer span.End()
	ac, err := a.resolve(ctx, req, token, "")
	if code := tollgate.ErrorCode(err); code == tollgate.EUnauthenticated || code == tollgate.EForbidden {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return ac.Credential, nil
}

// resolve turns a bearer string into its owner's actor. A scheme (Bearer
// or DPoP) says the request uses the credential (/check, the admin API):
// then failures count against the address, the origin rule and DPoP
// binding apply, and the use is recorded. "" is an inspection.
func (a *Authenticator) resolve(ctx context.Context, req Request, bearer string, scheme string) (app.Actor, error) {
	use := scheme != ""
	bearer = strings.TrimSpace(bearer)
	if bearer == "" {
		return app.Actor{}, errNoBearer
	}
	now := a.now()
	var key string
	e, cached := (*credEntry)(nil), false
	var fresh *clientEntry // the owner's account, when the load read it
	if len(bearer) <= oauth.MaxTokenLength {
		key = string(a.keyring.Hash(bearer))
		a.mu.Lock()
		e, cached = a.creds.get(key, now, a.cfg.CacheTTL)
		a.mu.Unlock()
		if cached {
			a.metrics.credHits.Inc()
		} else {
			a.metrics.credMisses.Inc()
		}
	}
	if !cached {
		// Only what needs the store is limited, and not a credential
		// this process has verified before (its entry is stale, not
		// gone): it passes even from an address over its limit, such as a
		// gateway's shared by many clients.
		limit := use && !a.known(key)
		if limit {
			if wait, which := a.bearer.blocked("", req.IP, now); wait > 0 {
				return app.Actor{}, a.limited(ctx, req, a.bearer, "", which, wait)
			}
		}
		var err error
		if e, fresh, err = a.loadCred(ctx, bearer, key); err != nil {
			if limit && tollgate.ErrorCode(err) == tollgate.EUnauthenticated {
				a.failedNow(req, a.bearer, "", now)
			}
			return app.Actor{}, err
		}
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "the token has expired")
	}
	ac, err := a.owner(ctx, e, req, fresh)
	if err != nil {
		return app.Actor{}, err
	}
	if !use {
		ac.Credential.Hash = []byte(key) // revocation broadcasts it; a use needs no copy
		if req.Door == "introspect" && e.claims != nil && e.claims.JKT() != "" && len(req.Header.Values("DPoP")) > 0 {
			if err := a.bound(ctx, req, e, bearer, oauth.TokenTypeDPoP); err != nil {
				return app.Actor{}, err
			}
		}
	}
	if use {
		if err := admit(e, req.Origin); err != nil {
			return app.Actor{}, err
		}
		if err := a.bound(ctx, req, e, bearer, scheme); err != nil {
			return app.Actor{}, err
		}
		token := ""
		if e.kind == tollgate.CredentialAPIToken {
			token = e.id
		}
		account := ""
		if ac.Credential.Account != nil {
			account = ac.Credential.Account.ID
		}
		a.used(token, account, req.Origin)
	}
	return ac, nil
}

// owner returns the actor of e's owner as it is now: a service account
// that exists and is enabled, or a user who is still a member. The
// credential's role is at most the owner's current role, and never
// super_admin. fresh, when not nil, is the owner's account as the load of
// the credential just read it, used instead of the cache.
func (a *Authenticator) owner(ctx context.Context, e *credEntry, req Request, fresh *clientEntry) (app.Actor, error) {
	c := &app.Credential{Kind: e.kind, ID: e.id, OrgID: e.orgID, Public: e.public, Claims: e.claims}
	ac := app.Actor{Type: e.ownerType, ID: e.ownerID, Name: e.ownerName, IP: req.IP, UserAgent: req.UserAgent, Credential: c}
	var ownerRole tollgate.Role
	if e.ownerType == tollgate.PrincipalServiceAccount {
		owner := fresh // read with the credential: as fresh as what the cache would hold
		if owner == nil || owner.sa.ID != e.ownerID {
			var err error
			owner, err = a.account(ctx, e.ownerID)
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "the token's service account was deleted")
			} else if err != nil {
				return app.Actor{}, err
			}
		}
		if owner.sa.Status != tollgate.StatusActive {
			return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "the token's service account is disabled")
		}
		if e.claims != nil && e.claims.JKT() == "" && owner.sa.RequireDPoP {
			// Requiring DPoP revoked the account's Bearer tokens; this
			// one's cache entry may predate that.
			return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "the token's service account requires DPoP: this Bearer token was revoked")
		}
		// Cache entries are never changed once stored, only replaced:
		// callers read them in place.
		c.Account, c.Org, ownerRole = &owner.sa, owner.org, owner.sa.Role
	} else {
		role, err := a.memberRole(ctx, e.orgID, e.ownerID)
		if tollgate.ErrorCode(err) == tollgate.ENotFound {
			return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "the token's owner is no longer a member")
		} else if err != nil {
			return app.Actor{}, err
		}
		ownerRole = role
	}
	if ownerRole == tollgate.RoleSuperAdmin {
		ownerRole = tollgate.RoleAdmin // credentials never carry super_admin
	}
	c.Role = ownerRole // an access token acts with its account's current role
	if e.kind == tollgate.CredentialAPIToken {
		c.Role = e.role.Min(ownerRole) // an owner demoted below the token's role demotes it
	}
	return ac, nil
}

// memberRole returns a user's role in an org, cached for CacheTTL.
// ENotFound when the user is not a member.
func (a *Authenticator) memberRole(ctx context.Context, orgID, userID string) (tollgate.Role, error) {
	return lookup(a, a.members, orgID+"/"+userID, func() (tollgate.Role, error) {
		m, err := a.store.GetMember(ctx, orgID, userID)
		if err != nil {
			return "", err
		}
		return m.Role, nil
	})
}

// admit applies the origin rule of public tokens (A4).
func admit(e *credEntry, origin string) error {
	if !e.public {
		return nil
	}
	if origin == "" {
		return tollgate.Errorf(tollgate.EForbidden, "a public token is accepted only from its listed origins, and this request has no Origin or Referer")
	}
	if !slices.Contains(e.domains, origin) {
		return tollgate.Errorf(tollgate.EForbidden, "this public token does not list the origin %s", origin)
	}
	return nil
}

// loadCred verifies a bearer string against the store and caches it. A
// string that is well formed but unknown is remembered as such (R3); one
// that is malformed is refused before any look-up. When the load read the
// owning service account too, it returns its entry, as fresh as the
// credential's, for this request (owner).
func (a *Authenticator) loadCred(ctx context.Context, bearer, key string) (*credEntry, *clientEntry, error) {
	switch {
	case len(bearer) > oauth.MaxTokenLength:
		return nil, nil, errMalformed
	case strings.HasPrefix(bearer, credential.PrefixCLISession):
		return nil, nil, errCLIElsewhere
	case strings.HasPrefix(bearer, credential.PrefixPrivateToken), strings.HasPrefix(bearer, credential.PrefixPublicToken):
		if !credential.ValidCredential(bearer[:4], bearer) {
			return nil, nil, errMalformed
		}
	case oauth.LooksLikeJWT(bearer):
	case len(bearer) < tollgate.MinLegacyTokenLength || len(bearer) > tollgate.MaxLegacyTokenLength:
		return nil, nil, errMalformed
	}
	if a.isNegative(key) {
		return nil, nil, errUnknown
	}
	a.mu.Lock()
	gen, since := a.gen, a.refusals
	a.mu.Unlock()
	var e *credEntry
	var owner *clientEntry
	var err error
	if oauth.LooksLikeJWT(bearer) {
		e, owner, err = a.loadAccessToken(ctx, bearer)
		// An imported legacy token may have the shape of a JWT.
		if err != nil && tollgate.ErrorCode(err) == tollgate.EUnauthenticated && len(bearer) >= tollgate.MinLegacyTokenLength && len(bearer) <= tollgate.MaxLegacyTokenLength {
			if legacy, lowner, lerr := a.loadAPIToken(ctx, []byte(key), gen); lerr == nil || !errors.Is(lerr, errUnknown) {
				e, owner, err = legacy, lowner, lerr
			}
		}
	} else {
		e, owner, err = a.loadAPIToken(ctx, []byte(key), gen)
	}
	if errors.Is(err, errUnknown) {
		a.refuse(key)
		a.addNegative(gen, key)
	}
	if err != nil {
		return nil, nil, err
	}
	a.install(gen, func() {
		if n, ok := a.refused.peek(key); ok && n > since {
			return // found gone since this load began: what it read may be older
		}
		a.creds.put(key, e, a.now())
	})
	return e, owner, nil
}

// refuse records that a load found the credential of key gone (unknown,
// revoked or deleted) and drops its entry. Another replica's revocation
// commits before its broadcast arrives: meanwhile, a load of the
// credential that read the row before the commit may finish after a load
// that read it after, and has cached, or would cache, what it read. Once
// this process has refused a credential it must not accept it again.
func (a *Authenticator) refuse(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refusals++
	a.refused.put(key, a.refusals, a.now())
	a.creds.del(key)
}

// loadAPIToken reads the API token of hash. A service account's token is
// read with the account and its org, in one read, and the account's entry
// is returned and cached with it (unless an invalidation happened since
// gen). A user's token is read alone.
func (a *Authenticator) loadAPIToken(ctx context.Context, hash []byte, gen uint64) (*credEntry, *clientEntry, error) {
	start := a.now()
	var t *tollgate.APITokenView
	var c *clientEntry
	at, err := a.store.GetAccountTokenByHash(ctx, hash)
	if err == nil {
		c = a.newClientEntry(at.Account, at.Org)
		a.install(gen, func() { a.clients.put(c.sa.ID, c, start) })
		// The token's entry shares the account's strings (equal by the
		// join; the org's when it is the same org, as it always should be).
		t = &at.Token
		t.OwnerID, t.OwnerName = c.sa.ID, c.sa.Name
		if t.OrgID == c.org.ID {
			t.OrgID = c.org.ID
		}
	} else if tollgate.ErrorCode(err) == tollgate.ENotFound {
		t, err = a.store.GetAPITokenByHash(ctx, hash)
	}
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, errUnknown
	} else if err != nil {
		return nil, nil, err
	}
	e := &credEntry{kind: tollgate.CredentialAPIToken, id: t.ID, orgID: t.OrgID, role: t.Role, public: t.Kind == tollgate.KindPublic,
		domains: t.Domains, ownerType: t.OwnerType, ownerID: t.OwnerID, ownerName: t.OwnerName}
	if t.ExpiresAt != nil {
		e.expires = *t.ExpiresAt
	}
	return e, c, nil
}

// loadAccessToken verifies a JWT and finds its record. A token signed by a
// key this process has not read yet is refused but not remembered as
// unknown: the key may be a moment old.
func (a *Authenticator) loadAccessToken(ctx context.Context, token string) (*credEntry, *clientEntry, error) {
	cl, err := oauth.VerifyAccessToken(ctx, token, a.cfg.Issuer, a.now(), a.keys.PublicKey)
	switch {
	case errors.Is(err, oauth.ErrUnknownKey):
		return nil, nil, tollgate.Errorf(tollgate.EUnauthenticated, "the token's signing key is unknown")
	case errors.Is(err, oauth.ErrNotAccessToken):
		return nil, nil, errUnknown
	case err != nil:
		return nil, nil, err
	}
	rec, err := a.store.GetAccessToken(ctx, cl.ID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, errUnknown
	} else if err != nil {
		return nil, nil, err
	}
	if rec.RevokedAt != nil {
		return nil, nil, errUnknown
	}
	owner, err := a.account(ctx, rec.ServiceAccountID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, errUnknown
	} else if err != nil {
		return nil, nil, err
	}
	return &credEntry{kind: tollgate.CredentialAccessToken, id: rec.ID, orgID: owner.org.ID, ownerType: tollgate.PrincipalServiceAccount,
		ownerID: owner.sa.ID, ownerName: owner.sa.Name, expires: rec.ExpiresAt, claims: cl}, owner, nil
}

// known reports whether the credential of key was verified by this
// process and is still in its cache, fresh or not (a revocation removes
// it).
func (a *Authenticator) known(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.creds.has(key)
}

// isNegative reports whether key is remembered as an unknown credential.
func (a *Authenticator) isNegative(key string) bool {
	a.mu.Lock()
	_, ok := a.negative.get(key, a.now(), a.cfg.NegativeTTL)
	a.mu.Unlock()
	if ok {
		a.metrics.negativeHits.Inc()
	}
	return ok
}

// addNegative remembers key as unknown, unless an invalidation happened
// since the look-up began at gen (the credential may exist now).
func (a *Authenticator) addNegative(gen uint64, key string) {
	a.install(gen, func() { a.negative.put(key, struct{}{}, a.now()) })
}

// Preflight reports whether a CORS preflight from req's origin may pass:
// some public token lists it. Answers are cached for CacheTTL. A preflight
// carries no credential, so an origin no token lists is counted against
// the address like an unknown credential: guessing origins costs the store
// nothing once the address is over its limit.
func (a *Authenticator) Preflight(ctx context.Context, req Request) (bool, error) {
	ctx, span := tracer.Start(ctx, "authn.Preflight")
	defer span.End()
	if req.Origin == "" {
		return false, nil
	}
	now := a.now()
	a.mu.Lock()
	listed, cached := a.preflight.get(req.Origin, now, a.cfg.CacheTTL)
	a.mu.Unlock()
	if cached {
		return listed, nil
	}
	if wait, which := a.bearer.blocked("", req.IP, now); wait > 0 {
		return false, a.limited(ctx, req, a.bearer, "", which, wait)
	}
	listed, err := lookup(a, a.preflight, req.Origin, func() (bool, error) { return a.store.PublicOriginListed(ctx, req.Origin) })
	if err == nil && !listed {
		a.failedNow(req, a.bearer, "", now)
	}
	return listed, err
}
