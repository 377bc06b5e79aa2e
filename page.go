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

// Validate checks the limit range and that the cursor is well formed: one
// EncodeCursor or EncodeNameCursor made. Whether it is the right kind for
// the list (a name cursor belongs to a search) is the list's to check.
func (p Page) Validate() error {
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return Invalidf("limit", "limit must be between 1 and %d", MaxPageLimit)
	}
	if p.Cursor != "" {
		if _, _, err := DecodeCursor(p.Cursor); err != nil {
			if _, _, err := DecodeNameCursor(p.Cursor); err != nil {
				return err
			}
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

// nameCursorMark starts the decoded form of a name cursor; a time cursor
// starts with a digit or '-'.
const nameCursorMark = "~"

// EncodeNameCursor makes an opaque cursor from the sort key of a list in
// name order (a search's): the folded name and an ID that breaks ties.
// Like a time cursor, it names a position, not an offset.
func EncodeNameCursor(name, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(nameCursorMark + base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + id))
}

// DecodeNameCursor parses a cursor made by EncodeNameCursor. Any other
// string, a time cursor included, gets an EInvalid error naming the field
// "cursor".
func DecodeNameCursor(c string) (string, string, error) {
	bad := Invalidf("cursor", "cursor is not one this server returned for this search")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", bad
	}
	rest, ok := strings.CutPrefix(string(b), nameCursorMark)
	if !ok {
		return "", "", bad
	}
	enc, id, ok := strings.Cut(rest, ".")
	if !ok || id == "" || len(id) > 64 {
		return "", "", bad
	}
	name, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(name) > 4*MaxEmailLength || !PlainText(string(name)) {
		return "", "", bad
	}
	return string(name), id, nil
}

// PageOf finishes a keyset page. Stores fetch limit+1 rows; PageOf keeps the
// first limit and, when there was one more, returns the cursor of the last
// kept item, made by cursor (ByTime or ByName).
func PageOf[T any](rows []T, limit int, cursor func(*T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, cursor(&rows[limit-1])
}

// ByTime makes the cursor function of a list in time order from its sort
// key (MemberKey, AuditEventKey, ...).
func ByTime[T any](key func(*T) (time.Time, string)) func(*T) string {
	return func(v *T) string { return EncodeCursor(key(v)) }
}

// ByName makes the cursor function of a list in name order (a search's)
// from its sort key (MemberSearchKey, ...).
func ByName[T any](key func(*T) (string, string)) func(*T) string {
	return func(v *T) string { return EncodeNameCursor(key(v)) }
}

// MemberKey is the sort key of member lists: join time, then user ID.
func MemberKey(m *MemberView) (time.Time, string) { return m.JoinedAt, m.UserID }

// MemberSearchKey is the sort key of member searches: email (unique, and
// lowercase), then user ID.
func MemberSearchKey(m *MemberView) (string, string) { return m.Email, m.UserID }

// AuditEventKey is the sort key of audit lists: time, then event ID.
func AuditEventKey(e *AuditEvent) (time.Time, string) { return e.Time, e.ID }
