package oauth

import (
	"time"
)

// AuthPrivateKeyJWT is the client authentication method of RFC 7523 §2.2
// (OpenID Connect Core §9): a JWT signed with a key the client registered.
const AuthPrivateKeyJWT = "private_key_jwt"

// AssertionTypeJWT is the client_assertion_type of a JWT assertion.
const AssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxAssertionLife is how far ahead a client assertion's exp may be (K1).
const MaxAssertionLife = 10 * time.Minute

// maxJTILength bounds a jti: it is stored until the assertion expires.
const maxJTILength = 256

// CheckClientAssertion applies RFC 7523 §3 to a client assertion's
// claims, before its signature is checked (K1): iss and sub are the
// client ID, aud names one of audiences (the token endpoint URL or the
// issuer), exp is at most MaxAssertionLife ahead, nbf and iat are not in
// the future, and a jti is present. The error is invalid_client and its
// description names the rule that failed.
func CheckClientAssertion(t *JWT, clientID string, audiences []string, now time.Time) error {
	const what = "the client assertion"
	c := &t.Claims
	switch {
	case c.Issuer != clientID:
		return Fail(CodeInvalidClient, what+"'s iss must be the client ID")
	case c.Subject != clientID:
		return Fail(CodeInvalidClient, what+"'s sub must be the client ID")
	case !c.HasAudience(audiences...):
		return Fail(CodeInvalidClient, what+"'s aud must be the token endpoint URL or the issuer")
	case c.ID == "":
		return Fail(CodeInvalidClient, what+" has no jti: each assertion needs a unique one")
	case len(c.ID) > maxJTILength:
		return Fail(CodeInvalidClient, what+"'s jti is too long")
	}
	if err := c.checkTimes(what, now, MaxAssertionLife); err != nil {
		return Fail(CodeInvalidClient, err.Error())
	}
	return nil
}

// AssertionClientID returns the client ID an assertion names (its iss),
// for a request that sent no client_id (RFC 7523 §3: client_id is
// optional with an assertion).
func AssertionClientID(assertion string) string {
	t, err := ParseJWT(assertion, "the client assertion")
	if err != nil {
		return ""
	}
	return t.Claims.Issuer
}
