package oauth

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate/tollgate"
)

// MethodFederated names federation as a way to authenticate, in the audit
// log (K2); MethodClientSecret names both client_secret methods.
const (
	MethodFederated    = "federated"
	MethodClientSecret = "client_secret"
)

// AuditMethod is the method an access_token.issued event records for a
// client authentication method or grant (K2): client_secret,
// private_key_jwt or federated.
func AuditMethod(method string) string {
	switch method {
	case AuthBasic, AuthPost:
		return MethodClientSecret
	}
	return method
}

// CheckFederated applies a federated credential's conditions to an
// external token whose signature verified (K2, RFC 7523 §3): its iss is
// the credential's issuer, its aud holds the credential's audience, it has
// not expired and is valid now (exp required, nbf and iat not in the
// future), its sub is the credential's subject when one is set, and each
// named claim is a string exactly equal to the condition's value (case and
// spaces count; no wildcards). The error is invalid_grant and names the
// condition that failed, without revealing the expected values.
func CheckFederated(t *JWT, fc *tollgate.FederatedCredential, now time.Time) error {
	const what = "the workload's token"
	c := &t.Claims
	if !tollgate.PlainText(c.Subject) || len(c.Subject) > tollgate.MaxFederatedValueLength {
		return Fail(CodeInvalidGrant, what+"'s sub must be at most 512 characters of plain text")
	}
	if c.Issuer != fc.Issuer {
		return Fail(CodeInvalidGrant, what+"'s iss is not the federated credential's issuer")
	}
	if !c.HasAudience(fc.Audience) {
		return Fail(CodeInvalidGrant, what+"'s aud does not include the audience the federated credential requires")
	}
	if err := c.checkTimes(what, now, 0); err != nil {
		return Fail(CodeInvalidGrant, err.Error())
	}
	if fc.Subject != "" && c.Subject != fc.Subject {
		return Fail(CodeInvalidGrant, what+"'s sub does not match the federated credential's subject (compared exactly)")
	}
	for _, name := range slices.Sorted(maps.Keys(fc.Claims)) {
		got, ok := c.StringClaim(name)
		switch {
		case !ok:
			return Fail(CodeInvalidGrant, what+" has no string claim "+strconv.Quote(name)+", which the federated credential requires")
		case got != fc.Claims[name]:
			return Fail(CodeInvalidGrant, what+"'s "+strconv.Quote(name)+" claim does not match the federated credential's condition (compared exactly: case and spaces count)")
		}
	}
	return nil
}
