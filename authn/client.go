package authn

import (
	"context"
	"crypto/hmac"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/oauth"
)

// clientEntry is what the boundary knows of one service account: the
// account and its org. Its client secrets are cached apart (secretsOf):
// only secret authentication needs them, not every use of the account's
// tokens.
type clientEntry struct {
	sa  tollgate.ServiceAccount
	org *tollgate.Org // shared with other entries (internOrg): read only
}

// newClientEntry makes the entry of sa in org, sharing the org's copy and
// its ID's string with other entries.
func (a *Authenticator) newClientEntry(sa tollgate.ServiceAccount, org tollgate.Org) *clientEntry {
	o := a.internOrg(org)
	sa.OrgID = o.ID
	return &clientEntry{sa: sa, org: o}
}

// internOrg returns the shared copy of o: the one already held if it is
// equal, else o, which replaces it. The set is bounded like a cache.
func (a *Authenticator) internOrg(o tollgate.Org) *tollgate.Org {
	a.orgsMu.Lock()
	defer a.orgsMu.Unlock()
	if p, ok := a.orgs[o.ID]; ok && *p == o {
		return p
	}
	if len(a.orgs) >= maxEntries {
		clear(a.orgs)
	}
	p := &o
	a.orgs[o.ID] = p
	return p
}

// account returns the state of a service account, cached for CacheTTL.
// ENotFound for an ID that names no account.
func (a *Authenticator) account(ctx context.Context, id string) (*clientEntry, error) {
	return lookup(a, a.clients, id, func() (*clientEntry, error) {
		if !tollgate.HasPrefix(id, tollgate.PrefixServiceAccount) {
			return nil, tollgate.Errorf(tollgate.ENotFound, "no such service account")
		}
		sa, org, err := a.store.GetServiceAccountAndOrg(ctx, id)
		if err != nil {
			return nil, err
		}
		return a.newClientEntry(*sa, *org), nil
	})
}

// secretsOf returns a service account's client secrets, cached for
// CacheTTL and dropped with the account's entry.
func (a *Authenticator) secretsOf(ctx context.Context, id string) ([]tollgate.ClientSecret, error) {
	return lookup(a, a.secrets, id, func() ([]tollgate.ClientSecret, error) {
		return a.store.ListClientSecrets(ctx, id)
	})
}

// clientMethod is one way for an OAuth client to authenticate (RFC 6749
// §2.3). wellFormed refuses what the client presented when it cannot be
// right at all, before anything is looked up; verify checks it against the
// client's entry (nil for an unknown client, which must fail the same way)
// and returns the ID of the credential that matched. Their refusals are
// invalid_client errors, counted as failures; any other error is the
// store's.
type clientMethod struct {
	wellFormed func(a *Authenticator, auth oauth.ClientAuth, now time.Time) error
	verify     func(ctx context.Context, a *Authenticator, auth oauth.ClientAuth, c *clientEntry, now time.Time) (credentialID string, err error)
}

// clientMethods are the client authentication methods, by RFC 7591 name,
// each parsed by oauth.ParseClientAuth.
var clientMethods = map[string]clientMethod{
	oauth.AuthBasic:         secretMethod,
	oauth.AuthPost:          secretMethod,
	oauth.AuthPrivateKeyJWT: assertionMethod,
}

// secretMethod checks a client secret (C1–C5): a checksum that is wrong is
// refused before any look-up; the keyed hash is compared with every live
// secret in constant time, and with a dummy for an unknown client.
var secretMethod = clientMethod{
	wellFormed: func(_ *Authenticator, auth oauth.ClientAuth, _ time.Time) error {
		if !credential.ValidCredential(credential.PrefixClientSecret, auth.Secret) {
			return errClientAuth
		}
		return nil
	},
	verify: func(ctx context.Context, a *Authenticator, auth oauth.ClientAuth, c *clientEntry, now time.Time) (string, error) {
		h := a.keyring.Hash(auth.Secret)
		if c == nil {
			hmac.Equal(h, a.dummy)
			return "", errClientAuth
		}
		secrets, err := a.secretsOf(ctx, c.sa.ID)
		if err != nil {
			return "", err
		}
		match := ""
		for i := range secrets {
			if hmac.Equal(h, secrets[i].Hash) && secrets[i].LiveAt(now) {
				match = secrets[i].ID
			}
		}
		if match == "" {
			return "", errClientAuth
		}
		return match, nil
	},
}

// errClientAuth is the one answer to failed client authentication, whether
// the client ID exists or not.
var errClientAuth = oauth.Fail(oauth.CodeInvalidClient, "client authentication failed")

// Client authenticates the OAuth client of a token, introspection or
// revocation request from its Authorization header and form: by a client
// secret, a client assertion (private_key_jwt), or, for the federated
// grants at the token endpoint, the workload's token (federated). It returns
// the service account as an actor whose Credential carries the account,
// its org and how it authenticated. Errors carry OAuth codes:
// invalid_client (EUnauthenticated) for failed authentication or a
// disabled account, invalid_request (EInvalid) for a malformed request,
// and ERateLimited once the client ID or address is over its limit.
func (a *Authenticator) Client(ctx context.Context, req Request) (app.Actor, error) {
	ctx, span := tracer.Start(ctx, "authn.Client")
	defer span.End()
	if req.Door == "token" && oauth.Federated(req.Form.Get("grant_type")) && len(req.Form["grant_type"]) == 1 {
		return a.federated(ctx, req)
	}
	now := a.now()
	auth, err := oauth.ParseClientAuth(req.Authorization, req.Form)
	if err != nil {
		if wait, which := a.client.blocked("", req.IP, now); wait > 0 {
			return app.Actor{}, a.limited(ctx, req, a.client, "", which, wait)
		}
		a.failedNow(req, a.client, "", now)
		return app.Actor{}, err
	}
	// A client ID no account can have is counted against the address
	// only: the limiter keeps (bounded) keys of real identifiers.
	limitID := auth.ID
	if !tollgate.HasPrefix(limitID, tollgate.PrefixServiceAccount) {
		limitID = ""
	}
	if wait, which := a.client.blocked(limitID, req.IP, now); wait > 0 {
		return app.Actor{}, a.limited(ctx, req, a.client, limitID, which, wait)
	}
	method := clientMethods[auth.Method]
	var c *clientEntry
	err = method.wellFormed(a, auth, now)
	if err == nil {
		if c, err = a.knownClient(ctx, auth.ID); err != nil {
			return app.Actor{}, err
		}
	}
	id := ""
	if err == nil {
		id, err = method.verify(ctx, a, auth, c, now)
	}
	if err != nil {
		if oauth.CodeOf(err) == oauth.CodeInvalidClient {
			a.failedNow(req, a.client, limitID, now)
		}
		return app.Actor{}, err
	}
	a.client.forget(limitID, req.IP)
	if c.sa.Status != tollgate.StatusActive {
		return app.Actor{}, oauth.Fail(oauth.CodeInvalidClient, "this service account is disabled")
	}
	jkt, err := a.tokenProof(ctx, req)
	if err != nil {
		return app.Actor{}, err
	}
	a.used("", c.sa.ID, "")
	kind := tollgate.CredentialClientSecret
	if auth.Method == oauth.AuthPrivateKeyJWT {
		kind = tollgate.CredentialClientKey
	}
	return c.actor(req, &app.Credential{Kind: kind, ID: id, Method: auth.Method, JKT: jkt}), nil
}

// actor is the service account as the caller of an OAuth request, with
// cred (its Kind, ID, Method and JKT set) completed with the account, its
// org and role. The account and org are read in place: cache entries are
// replaced, never changed.
func (c *clientEntry) actor(req Request, cred *app.Credential) app.Actor {
	sa := &c.sa
	cred.OrgID, cred.Role, cred.Account, cred.Org = sa.OrgID, sa.Role, sa, c.org
	return app.Actor{Type: tollgate.PrincipalServiceAccount, ID: sa.ID, Name: sa.Name, IP: req.IP, UserAgent: req.UserAgent, Credential: cred}
}

// knownClient returns the entry of a client ID, or nil when no account has
// it: an ID that is not shaped like one, or one the negative cache or the
// store says is unknown (R3).
func (a *Authenticator) knownClient(ctx context.Context, id string) (*clientEntry, error) {
	if !tollgate.HasPrefix(id, tollgate.PrefixServiceAccount) || a.isNegative("client:"+id) {
		return nil, nil
	}
	gen := a.loadGen()
	c, err := a.account(ctx, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		a.addNegative(gen, "client:"+id)
		return nil, nil
	}
	return c, err
}
