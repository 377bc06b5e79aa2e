package tollgate

import (
	"fmt"
	"time"
)

// The policies of an organization (P1), by their settings' API names. A
// refusal names one of them (Error.Policy).
const (
	PolicyMaxTokenTTL         = "max_token_ttl_seconds"
	PolicyAPITokenMaxLifetime = "api_token_max_lifetime_seconds"
	PolicyPublicTokens        = "public_tokens_allowed"
	PolicyUserTokenImport     = "user_token_import_allowed"
)

// PolicyErrorf returns the EPolicy error of a request that breaks policy,
// naming the input field that breaks it.
func PolicyErrorf(policy, field, format string, args ...any) *Error {
	return &Error{Code: EPolicy, Policy: policy, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CheckTokenTTL refuses a service account token lifetime above the cap.
func (s OrgSettings) CheckTokenTTL(seconds int) error {
	if s.MaxTokenTTLSeconds != 0 && seconds > s.MaxTokenTTLSeconds {
		return PolicyErrorf(PolicyMaxTokenTTL, "token_ttl_seconds",
			"This organization allows access tokens of at most %s (%d seconds); %d seconds is longer.",
			HumanSeconds(s.MaxTokenTTLSeconds), s.MaxTokenTTLSeconds, seconds)
	}
	return nil
}

// CheckAPIToken refuses an API token the policy does not allow: a public
// one where they are off, or, under a maximum lifetime, one that never
// expires or expires later than that from now. Create, import and
// reassign all ask it.
func (s OrgSettings) CheckAPIToken(kind TokenKind, expires *time.Time, now time.Time) error {
	if kind == KindPublic && s.NoPublicTokens {
		return PolicyErrorf(PolicyPublicTokens, "kind",
			"This organization does not allow public tokens; use a private token on a server instead.")
	}
	if max := s.APITokenMaxLifetimeSeconds; max != 0 {
		if expires == nil {
			return PolicyErrorf(PolicyAPITokenMaxLifetime, "expires_at",
				"This organization requires API tokens to expire, within %s.", HumanSeconds(max))
		}
		if limit := now.Add(time.Duration(max) * time.Second); expires.After(limit) {
			return PolicyErrorf(PolicyAPITokenMaxLifetime, "expires_at",
				"This organization allows API tokens to live at most %s: expires_at must be no later than %s.",
				HumanSeconds(max), limit.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// CheckImport refuses importing a member's token where imports are off.
func (s OrgSettings) CheckImport() error {
	if s.NoUserTokenImport {
		return PolicyErrorf(PolicyUserTokenImport, "owner_user_id",
			"This organization does not allow importing members' tokens; create a token owned by a service account instead.")
	}
	return nil
}

// ViolationKind is one kind of existing credential a policy forbids. The
// stores count and list each rule's credentials (FindPolicyViolations).
type ViolationKind string

// The violation kinds.
const (
	ViolationTokenTTLAbove  ViolationKind = "service_account_ttl_above" // accounts whose token_ttl_seconds is above the cap
	ViolationNoExpiry       ViolationKind = "token_no_expiry"           // live API tokens that never expire
	ViolationExpiresTooLate ViolationKind = "token_expires_too_late"    // live API tokens expiring beyond the maximum lifetime
	ViolationPublicToken    ViolationKind = "token_public"              // live public tokens
	ViolationUserOwnedToken ViolationKind = "token_user_owned"          // live tokens owned by members (imported)
)

// MaxViolationSamples is how many credentials of each violation are listed.
const MaxViolationSamples = 20

// ViolationQuery is a rule with what it compares against: a TTL cap, or
// the latest expiry allowed.
type ViolationQuery struct {
	Rule    ViolationKind
	Policy  string
	TTL     int       // ViolationTokenTTLAbove
	Latest  time.Time // ViolationExpiresTooLate
	Subject PrincipalType
}

// ViolationQueries returns the rules s sets, in a fixed order, for the
// credentials alive at now.
func (s OrgSettings) ViolationQueries(now time.Time) []ViolationQuery {
	var qs []ViolationQuery
	if s.MaxTokenTTLSeconds != 0 {
		qs = append(qs, ViolationQuery{Rule: ViolationTokenTTLAbove, Policy: PolicyMaxTokenTTL, TTL: s.MaxTokenTTLSeconds, Subject: PrincipalServiceAccount})
	}
	if s.APITokenMaxLifetimeSeconds != 0 {
		qs = append(qs,
			ViolationQuery{Rule: ViolationNoExpiry, Policy: PolicyAPITokenMaxLifetime, Subject: PrincipalAPIToken},
			ViolationQuery{Rule: ViolationExpiresTooLate, Policy: PolicyAPITokenMaxLifetime, Subject: PrincipalAPIToken,
				Latest: Timestamp(now.Add(time.Duration(s.APITokenMaxLifetimeSeconds) * time.Second))})
	}
	if s.NoPublicTokens {
		qs = append(qs, ViolationQuery{Rule: ViolationPublicToken, Policy: PolicyPublicTokens, Subject: PrincipalAPIToken})
	}
	if s.NoUserTokenImport {
		qs = append(qs, ViolationQuery{Rule: ViolationUserOwnedToken, Policy: PolicyUserTokenImport, Subject: PrincipalAPIToken})
	}
	return qs
}

// PolicyViolation is what FindPolicyViolations found for one rule: how many
// credentials break it and the first of them (at most the limit asked
// for), oldest first. Credentials are never revoked for breaking a policy
// set after them: they are listed for a person to act on.
type PolicyViolation struct {
	ViolationQuery
	Count   int
	Samples []Principal
}

// Message says the violation in a sentence: "3 tokens have no expiry."
func (b PolicyViolation) Message() string {
	tokens := plural(b.Count, "API token has", "API tokens have")
	switch b.Rule {
	case ViolationTokenTTLAbove:
		return fmt.Sprintf("%s a token lifetime above %s.", plural(b.Count, "service account has", "service accounts have"), HumanSeconds(b.TTL))
	case ViolationNoExpiry:
		return fmt.Sprintf("%s no expiry.", tokens)
	case ViolationExpiresTooLate:
		return fmt.Sprintf("%s an expiry later than the maximum lifetime allows.", tokens)
	case ViolationPublicToken:
		return fmt.Sprintf("%s public, which is no longer allowed.", plural(b.Count, "API token is", "API tokens are"))
	case ViolationUserOwnedToken:
		return fmt.Sprintf("%s owned by members; reassign them to service accounts.", plural(b.Count, "API token is", "API tokens are"))
	}
	return fmt.Sprintf("%d credentials break %s.", b.Count, b.Policy)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// HumanSeconds writes a duration in seconds the way people say it, in
// its largest whole unit: "1 hour", "90 days", "45 minutes", else "N
// seconds". The console shows token lifetimes with it too.
func HumanSeconds(n int) string {
	for _, u := range []struct {
		s    int
		name string
	}{{86400, "day"}, {3600, "hour"}, {60, "minute"}} {
		if n >= u.s && n%u.s == 0 {
			if n == u.s {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n/u.s, u.name)
		}
	}
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}
