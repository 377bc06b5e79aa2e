// Package verify lets a resource server written in Go accept Tollgate's
// access tokens without calling Tollgate on every request: it checks the
// JWT (RFC 9068) locally against Tollgate's JWK Set.
//
//	v, err := verify.New(verify.Config{Issuer: "https://tollgate.example.com"})
//	http.Handle("/api/", v.Middleware(apiHandler))
//
// and in apiHandler, verify.FromContext(r.Context()) says which service
// account is calling, from which organization, with which role.
//
// The JWK Set is fetched once, kept, refreshed in the background every
// CacheTTL, and fetched again when a token names a key it does not know
// (Tollgate rotated its key) — but at most once per MinRefreshInterval, so
// that tokens with made-up key IDs cannot make it hammer Tollgate.
//
// Local verification cannot see a revocation, a disabled account or a role
// change before the token expires; for that, ask Tollgate's /check or
// /oauth2/introspect instead.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/tollgate/tollgate/oauth"
)

// Config configures a Verifier.
type Config struct {
	// Issuer is Tollgate's public base URL, the iss every token must carry.
	Issuer string
	// Audience is the aud every token must carry (default: Issuer, which
	// is Tollgate's default audience).
	Audience string
	// JWKSURL is where the keys are (default: Issuer + "/oauth2/jwks").
	JWKSURL string
	// Leeway tolerates clock skew on exp, nbf and iat (default 30 s).
	Leeway time.Duration
	// CacheTTL is how long a fetched JWK Set is trusted (default 5 min).
	CacheTTL time.Duration
	// MinRefreshInterval spaces fetches caused by unknown key IDs
	// (default 10 s).
	MinRefreshInterval time.Duration
	// HTTPClient fetches the JWK Set (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now returns the time (default time.Now); tests set it.
	Now func() time.Time
	// RequestURL is the absolute URL a client called, as its DPoP proofs
	// name it (default: http or https by the connection, the Host header
	// and the path). The default believes the Host header, which the
	// client sets: in production return your public base URL and the
	// request's path, so that a proof made for another server is refused
	// here (and behind a proxy that terminates TLS, the scheme is right).
	RequestURL func(r *http.Request) string
	// ReplayCache makes each DPoP proof single use (default: in memory,
	// per process).
	ReplayCache ReplayCache
}

// Identity is who a valid access token speaks for.
type Identity struct {
	ServiceAccountID string // sub
	ClientID         string
	OrgID            string
	Role             string
	Scope            string
	TokenID          string // jti
	IssuedAt         time.Time
	ExpiresAt        time.Time
	// JKT is the thumbprint of the DPoP key the token is bound to ("" for
	// a Bearer token, RFC 9449 §6.1).
	JKT string
}

// Verifier checks access tokens against a cached JWK Set.
type Verifier struct {
	cfg Config

	mu        sync.Mutex
	keys      jwk.Set
	fetchedAt time.Time
	lastTry   time.Time
}

// maxJWKSBytes bounds the JWK Set document read from the network.
const maxJWKSBytes = 1 << 20

// New returns a Verifier. It does not fetch anything until the first token.
func New(cfg Config) (*Verifier, error) {
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if !strings.HasPrefix(cfg.Issuer, "https://") && !strings.HasPrefix(cfg.Issuer, "http://") {
		return nil, errors.New("verify: Issuer must be Tollgate's http(s) URL")
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = cfg.Issuer + "/oauth2/jwks"
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestURL == nil {
		cfg.RequestURL = requestURL
	}
	if cfg.ReplayCache == nil {
		cfg.ReplayCache = &memoryReplay{now: cfg.Now, seen: map[string]time.Time{}}
	}
	return &Verifier{cfg: cfg}, nil
}

// ErrInvalidToken is wrapped by every error about the token itself (as
// opposed to failing to reach Tollgate).
var ErrInvalidToken = errors.New("invalid access token")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

// key returns the published key with that ID, fetching the JWK Set when it
// is missing, stale, or does not have the key (bounded as described).
func (v *Verifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.cfg.Now()
	if v.keys != nil {
		if k, ok := v.keys.LookupKeyID(kid); ok && now.Sub(v.fetchedAt) < v.cfg.CacheTTL {
			return k, nil
		}
	}
	if v.keys == nil || now.Sub(v.lastTry) >= v.cfg.MinRefreshInterval || now.Sub(v.fetchedAt) >= v.cfg.CacheTTL {
		v.lastTry = now
		set, err := v.fetch(ctx)
		if err != nil {
			if v.keys == nil {
				return nil, err
			}
			// Keep serving with the keys we have while Tollgate is away.
		} else {
			v.keys, v.fetchedAt = set, now
		}
	}
	if k, ok := v.keys.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, invalid("unknown key %q", kid)
}

func (v *Verifier) fetch(ctx context.Context) (jwk.Set, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify: fetch JWK Set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: fetch JWK Set: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("verify: fetch JWK Set: %w", err)
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("verify: parse JWK Set: %w", err)
	}
	return set, nil
}

// claims are the RFC 9068 claims Tollgate puts in access tokens.
type claims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	ClientID string          `json:"client_id"`
	OrgID    string          `json:"org_id"`
	Role     string          `json:"role"`
	Scope    string          `json:"scope"`
	IssuedAt int64           `json:"iat"`
	Expiry   int64           `json:"exp"`
	NotUntil int64           `json:"nbf"`
	ID       string          `json:"jti"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

func (c *claims) hasAudience(aud string) bool {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return one == aud
	}
	var many []string
	if json.Unmarshal(c.Audience, &many) == nil {
		for _, a := range many {
			if a == aud {
				return true
			}
		}
	}
	return false
}

// Verify checks token: an EdDSA JWS of type at+jwt signed by a published
// key, from the configured issuer, for the configured audience, not expired
// (with leeway). Errors about the token wrap ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (*Identity, error) {
	if len(token) > 8192 {
		return nil, invalid("too long")
	}
	msg, err := jws.ParseString(token)
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, invalid("not a compact JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if typ, _ := h.Type(); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, invalid("typ is %q, not at+jwt", typ)
	}
	if alg, _ := h.Algorithm(); alg != jwa.EdDSA() {
		return nil, invalid("unexpected algorithm %v", alg)
	}
	kid, _ := h.KeyID()
	key, err := v.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.EdDSA(), key))
	if err != nil {
		return nil, invalid("bad signature")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("claims are not JSON")
	}
	now := v.cfg.Now()
	switch {
	case c.Issuer != v.cfg.Issuer:
		return nil, invalid("issuer %q", c.Issuer)
	case !c.hasAudience(v.cfg.Audience):
		return nil, invalid("not for audience %q", v.cfg.Audience)
	case c.Expiry == 0 || now.After(time.Unix(c.Expiry, 0).Add(v.cfg.Leeway)):
		return nil, invalid("expired")
	case c.NotUntil != 0 && now.Add(v.cfg.Leeway).Before(time.Unix(c.NotUntil, 0)):
		return nil, invalid("not valid yet")
	case c.IssuedAt != 0 && now.Add(v.cfg.Leeway).Before(time.Unix(c.IssuedAt, 0)):
		return nil, invalid("issued in the future")
	case c.Subject == "":
		return nil, invalid("no subject")
	}
	return &Identity{ServiceAccountID: c.Subject, ClientID: c.ClientID, OrgID: c.OrgID, Role: c.Role, Scope: c.Scope,
		TokenID: c.ID, IssuedAt: time.Unix(c.IssuedAt, 0), ExpiresAt: time.Unix(c.Expiry, 0), JKT: c.Cnf.JKT}, nil
}

type ctxKey struct{}

// FromContext returns the identity the Middleware put in the request's
// context.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(*Identity)
	return id, ok
}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// Middleware admits requests with a valid access token (VerifyRequest:
// Bearer, or DPoP with a proof for DPoP-bound tokens) and puts its
// Identity in the request context. Others get 401 with WWW-Authenticate
// (RFC 6750 §3, RFC 9449 §7.1); if Tollgate cannot be reached for the
// keys, 503.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.VerifyRequest(r)
		switch {
		case errors.Is(err, ErrInvalidProof):
			w.Header().Set("WWW-Authenticate", `DPoP realm="api", error="invalid_dpop_proof", algs="`+strings.Join(oauth.SigningAlgorithms, " ")+`"`)
			http.Error(w, "the DPoP proof is not valid", http.StatusUnauthorized)
			return
		case errors.Is(err, errNoToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			http.Error(w, "an access token is required", http.StatusUnauthorized)
			return
		case errors.Is(err, ErrInvalidToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			http.Error(w, "the access token is not valid", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "cannot verify access tokens right now", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}
