package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/oauth"
)

// trustEntry is what a service account trusts besides its secrets: its
// registered public keys (private_key_jwt, K1) and its federated
// credentials (K2). It is loaded only by the methods that need it, so
// that secrets and tokens never pay for it.
type trustEntry struct {
	keys []clientKey
	feds []tollgate.FederatedCredential
}

// clientKey is a registered key, parsed once.
type clientKey struct {
	row tollgate.ClientKey
	pub *oauth.PublicKey
}

// trust returns an account's keys and federated credentials, cached for
// CacheTTL and dropped with the account's entry on any change to it.
func (a *Authenticator) trust(ctx context.Context, id string) (*trustEntry, error) {
	return lookup(a, a.trusts, id, func() (*trustEntry, error) {
		rows, err := a.store.ListClientKeys(ctx, id)
		if err != nil {
			return nil, err
		}
		e := &trustEntry{}
		for _, r := range rows {
			pub, err := oauth.ParsePublicKey(r.JWK)
			if err != nil { // stored keys were parsed when registered
				a.log.Error("a registered key no longer parses", "key_id", r.ID, "err", err)
				continue
			}
			e.keys = append(e.keys, clientKey{row: r, pub: pub})
		}
		if e.feds, err = a.store.ListFederatedCredentials(ctx, id); err != nil {
			return nil, err
		}
		return e, nil
	})
}

// audiences are the aud values a client assertion may name (K1): the
// token endpoint's URL or the issuer.
func (a *Authenticator) audiences() []string {
	return []string{a.cfg.Issuer + "/oauth2/token", a.cfg.Issuer}
}

// assertionMethod is private_key_jwt (RFC 7523 §2.2, K1). Everything the
// assertion's claims say is checked before any look-up; its signature is
// checked against the account's live keys (the one its kid names, else
// each of its algorithm); its jti is then recorded as used until its exp,
// in the store, so that no replica accepts it again.
var assertionMethod = clientMethod{
	wellFormed: func(a *Authenticator, auth oauth.ClientAuth, now time.Time) error {
		if auth.Assertion == nil {
			return errClientAuth
		}
		return oauth.CheckClientAssertion(auth.Assertion, auth.ID, a.audiences(), now)
	},
	verify: func(ctx context.Context, a *Authenticator, auth oauth.ClientAuth, c *clientEntry, now time.Time) (string, error) {
		refused := oauth.Fail(oauth.CodeInvalidClient, "the client assertion's signature does not verify with any live key registered for this client")
		var keys []clientKey
		if c != nil {
			t, err := a.trust(ctx, c.sa.ID)
			if err != nil {
				return "", err
			}
			keys = t.keys
		}
		h := auth.Assertion.Header
		var match *clientKey
		tried := false
		for i := range keys {
			k := &keys[i]
			if (h.Kid == "" || k.row.KeyID == h.Kid) && k.row.LiveAt(now) {
				tried = true
				if auth.Assertion.Verify(k.pub) == nil {
					match = k
					break
				}
			}
		}
		if match == nil {
			if !tried {
				// An unknown client, or a kid it does not have, costs the
				// same signature check as a wrong key.
				_ = auth.Assertion.Verify(dummyKey(h.Alg))
			}
			return "", refused
		}
		exp := time.Unix(*auth.Assertion.Claims.Expiry, 0)
		if err := a.useOnce(ctx, "assertion", c.sa.ID+" "+auth.Assertion.Claims.ID, exp,
			oauth.Fail(oauth.CodeInvalidClient, "the client assertion's jti was used already: make a new assertion, with a new jti, for each request")); err != nil {
			return "", err
		}
		a.usedKey(match.row.ID)
		return match.row.ID, nil
	},
}

// dpopRefusal is how a request to a resource with a missing or bad DPoP
// proof is refused: unauthenticated (401), with RFC 9449's code in the
// chain for the WWW-Authenticate header.
func dpopRefusal(err error) error {
	return &tollgate.Error{Code: tollgate.EUnauthenticated, Message: tollgate.ErrorMessage(err), Err: oauth.CodeInvalidDPoPProof}
}

// proof verifies the DPoP proof of req (RFC 9449 §4.3) for its method
// and URI, with token hashed into ath when the request presents a token to
// a resource ("" at the token endpoint), and records its jti as used. It
// returns the proof's key thumbprint. A request must carry exactly one
// DPoP header.
func (a *Authenticator) proof(ctx context.Context, req Request, token string) (string, error) {
	values := req.Header.Values("DPoP")
	if len(values) > 1 {
		return "", oauth.Fail(oauth.CodeInvalidDPoPProof, "send one DPoP header, not several")
	}
	header := ""
	if len(values) == 1 {
		header = values[0]
	}
	p, err := oauth.ParseProof(header)
	if err != nil {
		return "", err
	}
	now := a.now()
	if err := p.Check(req.Method, req.URI, token, now); err != nil {
		return "", err
	}
	if err := a.useOnce(ctx, "dpop", p.JKT()+" "+p.JWT.Claims.ID, p.Expiry(),
		oauth.Fail(oauth.CodeInvalidDPoPProof, "the DPoP proof's jti was used already: make a new proof for each request")); err != nil {
		return "", err
	}
	return p.JKT(), nil
}

// tokenProof reads the DPoP proof of a token request, if it has one, and
// returns its key's thumbprint ("" without a proof): the token endpoint
// then binds the token to that key (K3).
func (a *Authenticator) tokenProof(ctx context.Context, req Request) (string, error) {
	if req.Door != "token" || len(req.Header.Values("DPoP")) == 0 {
		return "", nil
	}
	return a.proof(ctx, req, "")
}

// bound applies DPoP to a bearer string presented to a resource (/check,
// the admin API): a token bound to a key must come with the DPoP scheme
// and a valid proof of that key, and a token bound to none must not
// pretend to be (RFC 9449 §7).
func (a *Authenticator) bound(ctx context.Context, req Request, e *credEntry, bearer string, scheme string) error {
	jkt := ""
	if e.claims != nil {
		jkt = e.claims.JKT()
	}
	switch {
	case jkt == "" && scheme == oauth.TokenTypeDPoP:
		return dpopRefusal(oauth.Fail(oauth.CodeInvalidDPoPProof, "this token is not bound to a DPoP key: send it as Authorization: Bearer"))
	case jkt == "":
		return nil
	case scheme != oauth.TokenTypeDPoP:
		return dpopRefusal(oauth.Fail(oauth.CodeInvalidDPoPProof, "this token is bound to a DPoP key: send it as Authorization: DPoP, with a DPoP proof"))
	}
	got, err := a.proof(ctx, req, bearer)
	if err != nil {
		return dpopRefusal(err)
	}
	if got != jkt {
		return dpopRefusal(oauth.Fail(oauth.CodeInvalidDPoPProof, "the DPoP proof is signed by another key than the one the token is bound to"))
	}
	return nil
}

// dummyKeys are verified against when an assertion names no key a client
// has, one per algorithm, made once per process.
var dummyKeys = sync.OnceValue(func() map[string]*oauth.PublicKey {
	out := map[string]*oauth.PublicKey{}
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, oauth.MinRSABits)
	out[oauth.AlgEdDSA] = &oauth.PublicKey{Key: ed, Alg: oauth.AlgEdDSA}
	out[oauth.AlgEd25519] = out[oauth.AlgEdDSA]
	out[oauth.AlgES256] = &oauth.PublicKey{Key: &ec.PublicKey, Alg: oauth.AlgES256}
	out[oauth.AlgRS256] = &oauth.PublicKey{Key: &rs.PublicKey, Alg: oauth.AlgRS256}
	out[oauth.AlgPS256] = &oauth.PublicKey{Key: &rs.PublicKey, Alg: oauth.AlgPS256}
	return out
})

// dummyKey is the dummy key of alg (an accepted one: ParseJWT refused
// the others).
func dummyKey(alg string) *oauth.PublicKey {
	if k, ok := dummyKeys()[alg]; ok {
		return k
	}
	return dummyKeys()[oauth.AlgEdDSA]
}
