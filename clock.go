package tollgate

import "time"

// Clock tells the time. Production code uses SystemClock; tests inject a fake
// so that expiries can be crossed without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Timestamp returns t in UTC truncated to microseconds, the precision every
// store keeps, so that a value read back compares equal to the one written.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
