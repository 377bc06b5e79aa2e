package tollgate

import "time"

// SessionKind says where a session is used: a browser holds its ID in a
// cookie; the command line holds a tgc_ credential it got from the device
// authorization grant (RFC 8628, `tollgate login`).
type SessionKind string

const (
	SessionBrowser SessionKind = "browser"
	SessionCLI     SessionKind = "cli"
)

// PrefixSession starts a session's public ID, which lists and revokes it
// (its secret is never shown again).
const PrefixSession = "ses"

// Session is a signed-in person: a browser, or the command line. Its
// secret is 256 random bits given to the browser in a cookie, or a tgc_
// credential given to the CLI; only its SHA-256 hash (IDHash) is stored.
// ID is public: the person's list of sessions shows it, and revoking
// names it.
type Session struct {
	IDHash []byte
	ID     string
	UserID string
	Kind   SessionKind
	// IP and UserAgent are where the session started: the browser that
	// signed in, or the command line that asked for the device code.
	IP, UserAgent string
	CreatedAt     time.Time
	LastSeenAt    time.Time
	ExpiresAt     time.Time // absolute expiry
}

// SessionPolicy bounds sessions: a browser's ends when it has not been
// used for Idle, and every session Max after sign-in, whichever comes
// first. A CLI session has no idle rule (a script may run once a week):
// only its absolute expiry ends it, or its revocation.
type SessionPolicy struct {
	Idle time.Duration
	Max  time.Duration
}

// DefaultSessionPolicy ends a session after 12 hours unused or 7 days.
var DefaultSessionPolicy = SessionPolicy{Idle: 12 * time.Hour, Max: 7 * 24 * time.Hour}

// Ended reports whether s has ended at now.
func (p SessionPolicy) Ended(s *Session, now time.Time) bool {
	if !now.Before(s.ExpiresAt) {
		return true
	}
	return s.Kind != SessionCLI && now.Sub(s.LastSeenAt) >= p.Idle
}
