package tollgate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Page limits of every list.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Page asks for one page of a list: at most Limit items after the position
// Cursor names ("" for the first page).
type Page struct {
	Limit  int
	Cursor string
}

// Validate checks the limit range and that the cursor is well formed.
func (p Page) Validate() error {
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return Invalidf("limit", "limit must be between 1 and %d", MaxPageLimit)
	}
	if p.Cursor != "" {
		if _, _, err := DecodeCursor(p.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// EncodeCursor makes an opaque cursor from a list's sort key: a time and an
// ID that breaks ties. Keyset pagination on that pair is stable while rows
// are inserted or deleted, and fast at any depth.
func EncodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + id))
}

// DecodeCursor parses a cursor made by EncodeCursor. A cursor that was not
// made by it gets an EInvalid error naming the field "cursor".
func DecodeCursor(c string) (time.Time, string, error) {
	bad := Invalidf("cursor", "cursor is not one this server returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(b), ".")
	if !ok || id == "" || len(id) > 64 {
		return time.Time{}, "", bad
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// PageOf finishes a keyset page. Stores fetch limit+1 rows; PageOf keeps the
// first limit and, when there was one more, returns the cursor of the last
// kept item, made from key.
func PageOf[T any](rows []T, limit int, key func(*T) (time.Time, string)) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, EncodeCursor(key(&rows[limit-1]))
}

// MemberKey is the sort key of member lists: join time, then user ID.
func MemberKey(m *MemberView) (time.Time, string) { return m.JoinedAt, m.UserID }

// AuditEventKey is the sort key of audit lists: time, then event ID.
func AuditEventKey(e *AuditEvent) (time.Time, string) { return e.Time, e.ID }
