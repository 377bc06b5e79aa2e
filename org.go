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

// OrgSettings are an organization's tunables.
type OrgSettings struct {
	// TokenReuseFloorSeconds: a reusable access token with less time left
	// than this is not handed out again (rule T2a). 0 keeps the seed's
	// behaviour: reuse until expiry.
	TokenReuseFloorSeconds int
}

// Limits of organization fields.
const (
	MaxOrgNameLength          = 100
	MaxTokenReuseFloorSeconds = 2_592_000
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
	Name                   *string
	TokenReuseFloorSeconds *int
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
