package tollgate

import (
	"regexp"
	"time"
	"unicode/utf8"
)

// Org is an organization: a tenant. Its Slug is its name in URLs and never
// changes.
type Org struct {
	ID        string
	Slug      string
	Name      string
	Settings  OrgSettings
	CreatedAt time.Time
}

// OrgSettings are an organization's tunables and its credential policy
// (P1). The zero value is the default of every setting: no floor, no
// limits, public tokens and imports allowed.
type OrgSettings struct {
	// TokenReuseFloorSeconds: a reusable access token with less time left
	// than this is not handed out again (rule T2a). 0 keeps the seed's
	// behaviour: reuse until expiry.
	TokenReuseFloorSeconds int
	// MaxTokenTTLSeconds caps the token_ttl_seconds of service accounts
	// created or changed from now on; 0 is no cap.
	MaxTokenTTLSeconds int
	// APITokenMaxLifetimeSeconds, when not 0, makes a new API token's
	// expiry required and at most this far ahead.
	APITokenMaxLifetimeSeconds int
	// NoPublicTokens refuses new public tokens (public_tokens_allowed:
	// false). It is stored negated so that the zero value is the default.
	NoPublicTokens bool
	// NoUserTokenImport refuses imports of members' tokens
	// (user_token_import_allowed: false).
	NoUserTokenImport bool
}

// Limits of organization fields.
const (
	MaxOrgNameLength          = 100
	MaxTokenReuseFloorSeconds = 2_592_000
	// MaxAPITokenLifetimeSeconds bounds api_token_max_lifetime_seconds:
	// ten years.
	MaxAPITokenLifetimeSeconds = 315_360_000
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}$`)

// ValidateSlug checks the slug rule: 2–39 characters of lowercase letters,
// digits and '-', not starting with '-'.
func ValidateSlug(slug string) error {
	if !slugRE.MatchString(slug) {
		return Invalidf("slug", "slug must be 2 to 39 characters of lowercase letters, digits and '-', starting with a letter or digit")
	}
	return nil
}

// ValidateOrgName checks that a name is 1–100 characters of valid UTF-8.
func ValidateOrgName(name string) error {
	return validateText("name", name, 1, MaxOrgNameLength)
}

// Validate checks the settings' ranges.
func (s OrgSettings) Validate() error {
	if s.TokenReuseFloorSeconds < 0 || s.TokenReuseFloorSeconds > MaxTokenReuseFloorSeconds {
		return Invalidf("settings.token_reuse_floor_seconds", "token_reuse_floor_seconds must be between 0 and %d", MaxTokenReuseFloorSeconds)
	}
	if n := s.MaxTokenTTLSeconds; n != 0 && (n < MinTokenTTLSeconds || n > MaxTokenTTLSeconds) {
		return Invalidf("settings."+PolicyMaxTokenTTL, "The maximum token lifetime must be 0 (no limit) or between %d (5 minutes) and %d (30 days) seconds.", MinTokenTTLSeconds, MaxTokenTTLSeconds)
	}
	if n := s.APITokenMaxLifetimeSeconds; n < 0 || n > MaxAPITokenLifetimeSeconds {
		return Invalidf("settings."+PolicyAPITokenMaxLifetime, "The maximum API token lifetime must be 0 (no limit) or at most %d seconds (ten years).", MaxAPITokenLifetimeSeconds)
	}
	return nil
}

// Validate checks every rule an organization obeys on its own.
func (o *Org) Validate() error {
	if err := ValidateSlug(o.Slug); err != nil {
		return err
	}
	if err := ValidateOrgName(o.Name); err != nil {
		return err
	}
	return o.Settings.Validate()
}

// OrgUpdate is a partial change to an organization; nil fields stay.
type OrgUpdate struct {
	Name                       *string
	TokenReuseFloorSeconds     *int
	MaxTokenTTLSeconds         *int
	APITokenMaxLifetimeSeconds *int
	PublicTokensAllowed        *bool
	UserTokenImportAllowed     *bool
}

// ApplySettings writes u's settings into s and returns what changed, by
// API name ("settings.max_token_ttl_seconds": {from, to}), for the audit
// event. It does not validate s.
func (u OrgUpdate) ApplySettings(s *OrgSettings) map[string]any {
	changes := map[string]any{}
	setInt := func(name string, to *int, field *int) {
		if to != nil && *to != *field {
			changes["settings."+name] = map[string]any{"from": *field, "to": *to}
			*field = *to
		}
	}
	// allowed flips a stored "No…" flag from its API form, "…_allowed".
	allowed := func(name string, to *bool, no *bool) {
		if to != nil && *to == *no {
			changes["settings."+name] = map[string]any{"from": !*no, "to": *to}
			*no = !*to
		}
	}
	setInt("token_reuse_floor_seconds", u.TokenReuseFloorSeconds, &s.TokenReuseFloorSeconds)
	setInt(PolicyMaxTokenTTL, u.MaxTokenTTLSeconds, &s.MaxTokenTTLSeconds)
	setInt(PolicyAPITokenMaxLifetime, u.APITokenMaxLifetimeSeconds, &s.APITokenMaxLifetimeSeconds)
	allowed(PolicyPublicTokens, u.PublicTokensAllowed, &s.NoPublicTokens)
	allowed(PolicyUserTokenImport, u.UserTokenImportAllowed, &s.NoUserTokenImport)
	return changes
}

// validateText checks that s is valid UTF-8 of min..max characters (runes).
func validateText(field, s string, min, max int) error {
	if !PlainText(s) {
		return Invalidf(field, "%s must be valid UTF-8 without NUL characters", field)
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		if min == 1 {
			return Invalidf(field, "%s is required", field)
		}
		return Invalidf(field, "%s must be at least %d characters", field, min)
	}
	if n > max {
		return Invalidf(field, "%s must be at most %d characters", field, max)
	}
	return nil
}
