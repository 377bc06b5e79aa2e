package tollgate

import (
	"crypto/rand"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628) signs a person in at the
// command line: `tollgate login` asks for a device code and shows a user
// code; the person enters it on the console's /device page, signed in,
// and approves; the CLI, polling the token endpoint, gets a credential
// bound to a new CLI session of that person.

// PrefixDeviceAuthorization starts a device authorization's ID.
const PrefixDeviceAuthorization = "dev"

// DeviceClientID is the one client that may use the device grant: the
// tollgate command line, a public client (it has no secret to keep).
const DeviceClientID = "tollgate-cli"

// Device grant timing (RFC 8628 §3.2): a code lives 10 minutes, and the
// CLI polls every 5 seconds, 5 more after each slow_down.
const (
	DeviceCodeLifetime = 10 * time.Minute
	DevicePollInterval = 5 * time.Second
	DeviceSlowDownStep = 5 * time.Second
)

// DeviceStatus is where a device authorization is in its life.
type DeviceStatus string

const (
	DevicePending  DeviceStatus = "pending"  // waiting for the person
	DeviceApproved DeviceStatus = "approved" // approved, not yet picked up by the CLI
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed" // the CLI got its credential; the codes are spent
)

// DeviceAuthorization is one run of the device grant. Its device code
// (256 bits, the CLI's secret) and user code (what the person types) are
// stored only as keyed hashes.
type DeviceAuthorization struct {
	ID             string
	DeviceCodeHash []byte
	UserCodeHash   []byte
	ClientID       string
	Status         DeviceStatus
	// UserID is who approved or denied it ("" while pending).
	UserID string
	// IP and UserAgent are the command line's, shown to the person who
	// approves, so that they can tell a request they did not start.
	IP, UserAgent string
	// Interval is how long the CLI must wait between polls; it grows by
	// DeviceSlowDownStep each time it polls too soon.
	Interval  time.Duration
	CreatedAt time.Time
	ExpiresAt time.Time
	PolledAt  time.Time // zero before the first poll
	DecidedAt time.Time // zero while pending
}

// userCodeAlphabet has no vowels (no words spelled by accident) and no
// characters that look alike (RFC 8628 §6.1): 20 letters, so an
// 8-character code holds 34.6 bits.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is the number of letters in a user code.
const UserCodeLength = 8

// NewUserCode returns a random user code in its display form, XXXX-XXXX.
func NewUserCode() string {
	var b [UserCodeLength]byte
	for i := range b {
		// 256 is not a multiple of 20: draw again above the last
		// whole multiple so that every letter is equally likely.
		for {
			var r [1]byte
			rand.Read(r[:])
			if r[0] < 240 {
				b[i] = userCodeAlphabet[r[0]%20]
				break
			}
		}
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// NormalizeUserCode turns what a person typed into the canonical user
// code (eight upper-case letters, no dash), the form that is hashed. Case,
// spaces and dashes do not matter. EInvalid (field user_code) for
// anything that cannot be a user code.
func NormalizeUserCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if !strings.ContainsRune(userCodeAlphabet, r) || b.Len() >= UserCodeLength {
			return "", Invalidf("user_code", "the code is %d letters, as shown in your terminal (for example BCDF-GHJK)", UserCodeLength)
		}
		b.WriteRune(r)
	}
	if b.Len() != UserCodeLength {
		return "", Invalidf("user_code", "the code is %d letters, as shown in your terminal (for example BCDF-GHJK)", UserCodeLength)
	}
	return b.String(), nil
}

// FormatUserCode returns a user code in its display form, XXXX-XXXX, or
// s as it is when it cannot be a user code.
func FormatUserCode(s string) string {
	c, err := NormalizeUserCode(s)
	if err != nil {
		return s
	}
	return c[:4] + "-" + c[4:]
}
