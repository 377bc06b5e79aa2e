package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// DPoP (RFC 9449): a client proves possession of a key with each request,
// and tokens are bound to that key's thumbprint.
const (
	// TokenTypeDPoP is the token_type of a DPoP-bound token, and the
	// Authorization scheme it is sent with.
	TokenTypeDPoP = "DPoP"
	// ProofType is the typ of a DPoP proof JWT.
	ProofType = "dpop+jwt"
	// CodeInvalidDPoPProof is RFC 9449 §5's error for a missing or bad proof.
	CodeInvalidDPoPProof Code = "invalid_dpop_proof"
	// ProofWindow is how far a proof's iat may be from now, either way.
	ProofWindow = 60 * time.Second
)

// Proof is a DPoP proof whose signature verified with the key it carries.
type Proof struct {
	JWT *JWT
	Key *PublicKey
}

// JKT is the thumbprint of the proof's key (RFC 9449 §6.1).
func (p *Proof) JKT() string { return p.Key.Thumbprint }

// ParseProof decodes a DPoP header value and verifies its signature with
// the public key in its header (RFC 9449 §4.3, checks 1–7): one compact
// JWS, typ dpop+jwt, an accepted asymmetric alg, a public jwk, and the
// claims jti, htm, htu and iat. Errors are invalid_dpop_proof with a
// description naming the check.
func ParseProof(header string) (*Proof, error) {
	const what = "the DPoP proof"
	if header == "" {
		return nil, Fail(CodeInvalidDPoPProof, "a DPoP proof is required: send it in the DPoP header")
	}
	t, err := ParseJWT(header, what)
	if err != nil {
		return nil, Fail(CodeInvalidDPoPProof, err.Error())
	}
	if t.Header.Typ != ProofType {
		return nil, Fail(CodeInvalidDPoPProof, what+"'s typ must be dpop+jwt")
	}
	if len(t.Header.JWK) == 0 {
		return nil, Fail(CodeInvalidDPoPProof, what+" must carry its public key in the jwk header")
	}
	key, err := ParsePublicKey(t.Header.JWK)
	if err != nil {
		return nil, Fail(CodeInvalidDPoPProof, what+"'s jwk header is not an accepted public key: "+err.Error())
	}
	if !fits(t.Header.Alg, key.Alg) && !(key.Alg == AlgRS256 && t.Header.Alg == AlgPS256) {
		return nil, Fail(CodeInvalidDPoPProof, what+"'s alg does not fit its key")
	}
	key.Alg = t.Header.Alg // an RSA key without alg may sign PS256 proofs
	if err := t.Verify(key); err != nil {
		return nil, Fail(CodeInvalidDPoPProof, what+": "+err.Error())
	}
	c := &t.Claims
	switch {
	case c.ID == "":
		return nil, Fail(CodeInvalidDPoPProof, what+" has no jti")
	case len(c.ID) > maxJTILength:
		return nil, Fail(CodeInvalidDPoPProof, what+"'s jti is too long")
	case c.HTM == "":
		return nil, Fail(CodeInvalidDPoPProof, what+" has no htm (the request's method)")
	case c.HTU == "":
		return nil, Fail(CodeInvalidDPoPProof, what+" has no htu (the request's URI)")
	case c.IssuedAt == nil:
		return nil, Fail(CodeInvalidDPoPProof, what+" has no iat")
	}
	return &Proof{JWT: t, Key: key}, nil
}

// Check applies the rest of RFC 9449 §4.3 for a request with method and
// uri (absolute) at now: htm is the method, htu the URI without query and
// fragment, iat within ProofWindow, and, when accessToken is not "" (a
// request to a resource), ath its hash. The jti's single use is the
// caller's to record (a replay cache that all replicas share).
func (p *Proof) Check(method, uri, accessToken string, now time.Time) error {
	const what = "the DPoP proof"
	c := &p.JWT.Claims
	if c.HTM != method {
		return Fail(CodeInvalidDPoPProof, what+"'s htm is not this request's method ("+method+")")
	}
	if want, ok := NormalizeHTU(uri); !ok {
		return Fail(CodeInvalidDPoPProof, "the request's URI is unknown, so the DPoP proof cannot be checked: the gateway must forward it")
	} else if got, ok := NormalizeHTU(c.HTU); !ok || got != want {
		return Fail(CodeInvalidDPoPProof, what+"'s htu is not this request's URI ("+want+")")
	}
	iat := time.Unix(*c.IssuedAt, 0)
	if d := now.Sub(iat); d > ProofWindow || d < -ProofWindow {
		return Fail(CodeInvalidDPoPProof, what+"'s iat is not within "+ProofWindow.String()+" of the server's time")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
			return Fail(CodeInvalidDPoPProof, what+"'s ath is not the hash of the access token it is sent with")
		}
	}
	return nil
}

// Expiry is when the proof's jti may be forgotten: a replay after it is
// refused by the iat window.
func (p *Proof) Expiry() time.Time {
	return time.Unix(*p.JWT.Claims.IssuedAt, 0).Add(ProofWindow + time.Second)
}

// NormalizeHTU returns an absolute http(s) URI without query and
// fragment, with scheme and host lowercased and the default port dropped
// (RFC 9449 §4.3 check 9 compares URIs so, RFC 3986 §6.2.2–6.2.3).
func NormalizeHTU(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if (scheme == "http" && strings.HasSuffix(host, ":80")) || (scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}
