package tollgate

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// ID prefixes. An ID says what it names, which makes logs and support
// requests readable and lets a handler reject an ID of the wrong kind early.
const (
	PrefixOrg        = "org"
	PrefixUser       = "usr"
	PrefixInvitation = "inv"
	PrefixAuditEvent = "evt"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + 26 characters: a 48-bit millisecond timestamp
// followed by 80 random bits, in lowercase Crockford base32. IDs made later
// sort after IDs made earlier (to the millisecond), which keeps B-tree inserts
// local, and they are unguessable.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:]) // never returns an error (crypto/rand, Go 1.24+)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// HasPrefix reports whether id is a well-formed ID with the given prefix.
func HasPrefix(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
			return false
		}
	}
	return true
}
