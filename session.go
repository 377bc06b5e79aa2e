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
