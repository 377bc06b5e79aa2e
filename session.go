package tollgate

import "time"

// Session is a signed-in browser. Its ID is 256 random bits given to the
// browser in a cookie; only its SHA-256 hash (IDHash) is stored.
type Session struct {
	IDHash     []byte
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
}

// SessionPolicy bounds sessions: one ends when it has not been used for
// Idle, or Max after sign-in, whichever comes first.
type SessionPolicy struct {
	Idle time.Duration
	Max  time.Duration
}

// DefaultSessionPolicy ends a session after 12 hours unused or 7 days.
var DefaultSessionPolicy = SessionPolicy{Idle: 12 * time.Hour, Max: 7 * 24 * time.Hour}

// Ended reports whether s has ended at now.
func (p SessionPolicy) Ended(s *Session, now time.Time) bool {
	return !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= p.Idle
}
