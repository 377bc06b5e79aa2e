package oauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Leeway is the clock skew allowed for nbf and iat in the future.
const Leeway = 30 * time.Second

// JWT is a compact JWS whose header and claims have been decoded but whose
// signature is not yet checked (Verify). Presented JWTs are client
// assertions (RFC 7523), federated workload tokens, and DPoP proofs.
type JWT struct {
	raw    string
	Header JWTHeader
	Claims JWTClaims
}

// JWTHeader is the JOSE header members Tollgate reads.
type JWTHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
}

// JWTClaims are the registered claims (RFC 7519 §4.1) and those of DPoP
// proofs (RFC 9449 §4.2); any other claim is read by StringClaim, for the
// exact conditions of federated credentials.
type JWTClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    *int64
	NotBefore *int64
	IssuedAt  *int64
	ID        string
	// DPoP proofs.
	HTM, HTU, ATH, Nonce string

	all map[string]json.RawMessage // every claim, by its exact name
}

// errMalformed is the description of a string that is not a JWT.
const errMalformed = "is not a well-formed JWT (a compact JWS of three base64url parts)"

// ParseJWT decodes a compact JWS without checking its signature. what
// names it in errors ("the client assertion"). It refuses what can never
// verify: a bad shape, an algorithm outside SigningAlgorithms ("none",
// HMAC), a "crit" header, and claims that are not a JSON object or whose
// registered claims have the wrong types.
func ParseJWT(s, what string) (*JWT, error) {
	if len(s) > MaxTokenLength {
		return nil, errors.New(what + " is too long")
	}
	head, rest, ok := strings.Cut(s, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") || head == "" || payload == "" {
		return nil, errors.New(what + " " + errMalformed)
	}
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, errors.New(what + " " + errMalformed)
	}
	t := &JWT{raw: s}
	if json.Unmarshal(hb, &t.Header) != nil {
		return nil, errors.New(what + " has a header that is not a JSON object")
	}
	if !accepted(t.Header.Alg) {
		return nil, errors.New(what + " is signed with alg " + quote(t.Header.Alg) + ": accepted are EdDSA (or Ed25519), ES256, RS256 and PS256")
	}
	if sig == "" {
		return nil, errors.New(what + " has no signature")
	}
	if len(t.Header.Crit) > 0 {
		return nil, errors.New(what + " has a crit header, which is not supported")
	}
	pb, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, errors.New(what + " " + errMalformed)
	}
	if err := t.Claims.decode(pb); err != nil {
		return nil, errors.New(what + " " + err.Error())
	}
	return t, nil
}

func accepted(alg string) bool {
	for _, a := range SigningAlgorithms {
		if alg == a {
			return true
		}
	}
	return false
}

// decode reads the claims set, checking the registered claims' types.
// Names are matched exactly (encoding/json would match a struct's fields
// ignoring case); a claim whose value is null counts as absent; of a claim
// given twice, the last one counts.
func (c *JWTClaims) decode(b []byte) error {
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &c.all) != nil || c.all == nil {
		return errors.New("has claims that are not a JSON object")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"jti", &c.ID}, {"htm", &c.HTM}, {"htu", &c.HTU}, {"ath", &c.ATH}, {"nonce", &c.Nonce}} {
		raw := c.all[f.name]
		if present(raw) && json.Unmarshal(raw, f.dst) != nil {
			return errors.New("has a " + f.name + " claim that is not a string")
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{{"exp", &c.Expiry}, {"nbf", &c.NotBefore}, {"iat", &c.IssuedAt}} {
		raw := c.all[f.name]
		if !present(raw) {
			continue
		}
		var v float64
		if json.Unmarshal(raw, &v) != nil || v < 0 || v > 1e12 {
			return errors.New("has a " + f.name + " claim that is not a time in seconds")
		}
		n := int64(v)
		*f.dst = &n
	}
	if aud := c.all["aud"]; present(aud) {
		var one string
		if json.Unmarshal(aud, &one) == nil {
			c.Audience = []string{one}
		} else if json.Unmarshal(aud, &c.Audience) != nil {
			return errors.New("has an aud claim that is neither a string nor an array of strings")
		}
	}
	return nil
}

// present reports whether a claim was given, and not as null.
func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// Verify checks the JWT's signature with key: the header's alg must be the
// key's (Ed25519, EdDSA's fully-specified name, fits an EdDSA key).
func (t *JWT) Verify(key *PublicKey) error {
	if !fits(t.Header.Alg, key.Alg) {
		return errors.New("alg " + t.Header.Alg + " does not match the key's " + key.Alg)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(t.Header.Alg)
	if !ok {
		return errors.New("unsupported alg")
	}
	if _, err := jws.VerifyCompactFast(key.Key, []byte(t.raw), alg); err != nil {
		return errors.New("the signature does not verify")
	}
	return nil
}

// HasAudience reports whether the aud claim holds any of want.
func (c *JWTClaims) HasAudience(want ...string) bool {
	for _, a := range c.Audience {
		for _, w := range want {
			if a == w {
				return true
			}
		}
	}
	return false
}

// checkTimes applies exp (required, after now), nbf (not after now, with
// Leeway) and iat (not in the future, with Leeway). maxLife, when set,
// bounds how far ahead exp may be. what names the JWT in the description.
func (c *JWTClaims) checkTimes(what string, now time.Time, maxLife time.Duration) error {
	n := now.Unix()
	leeway := int64(Leeway / time.Second)
	switch {
	case c.Expiry == nil:
		return errors.New(what + " has no exp claim")
	case *c.Expiry <= n:
		return errors.New(what + " has expired (exp is in the past)")
	case maxLife > 0 && *c.Expiry > n+int64(maxLife/time.Second)+leeway:
		return errors.New(what + "'s exp is more than " + maxLife.String() + " ahead: make short-lived assertions")
	case c.NotBefore != nil && *c.NotBefore > n+leeway:
		return errors.New(what + " is not valid yet (nbf is in the future)")
	case c.IssuedAt != nil && *c.IssuedAt > n+leeway:
		return errors.New(what + " was issued in the future (iat)")
	}
	return nil
}

// StringClaim returns the claim as a string, and false when it is absent,
// null, or not a string.
func (c *JWTClaims) StringClaim(name string) (string, bool) {
	raw, ok := c.all[name]
	if !ok || !present(raw) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
