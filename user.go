package tollgate

import (
	"net/mail"
	"strings"
	"time"
)

// User is a human who signs in. PasswordHash is a PHC-format argon2id string;
// it never leaves the server.
type User struct {
	ID            string
	Email         string
	Name          string
	PasswordHash  string
	PlatformAdmin bool // the bootstrap user: may create organizations
	CreatedAt     time.Time
}

// Limits of user fields.
const (
	MaxEmailLength    = 254
	MaxUserNameLength = 100
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// NormalizeEmail returns the canonical form of an email address (trimmed and
// lowercased) or an EInvalid error naming field.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", Invalidf(field, "%s is required", field)
	}
	if len(e) > MaxEmailLength {
		return "", Invalidf(field, "%s must be at most %d characters", field, MaxEmailLength)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", Invalidf(field, "%s must be a plain email address such as name@example.com", field)
	}
	return e, nil
}

// ValidateUserName checks that a person's name is 1–100 characters.
func ValidateUserName(name string) error {
	return validateText("name", name, 1, MaxUserNameLength)
}

// ValidatePassword checks a new password's length (12–256 characters).
func ValidatePassword(password string) error {
	return validateText("password", password, MinPasswordLength, MaxPasswordLength)
}
