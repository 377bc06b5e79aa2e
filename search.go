package tollgate

import (
	"strings"
	"unicode/utf8"
)

// MaxSearchLength bounds a list's search text, in characters.
const MaxSearchLength = 100

// ValidateSearch checks a list's search text (the q of the API and the
// console): plain text of at most MaxSearchLength characters. It returns an
// EInvalid error naming the field "q".
func ValidateSearch(q string) error {
	if !PlainText(q) {
		return Invalidf("q", "q must be valid UTF-8 without NUL characters")
	}
	if n := utf8.RuneCountInString(q); n > MaxSearchLength {
		return Invalidf("q", "q must be at most %d characters (it has %d)", MaxSearchLength, n)
	}
	return nil
}

// FoldCase lowercases the ASCII letters of s and leaves every other
// character as it is. It is how name searches ignore case, and it is
// exactly what the stores' indexed expressions compute: SQLite's lower()
// and PostgreSQL's lower() in the "C" collation, both ASCII-only. So a
// search ignores the case of A–Z, and matches other letters as written.
func FoldCase(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Range is the index range of a prefix search: the strings s with
// From <= s < To in byte order (the order of code points, and of SQLite's
// BINARY and PostgreSQL's "C" collation). To is "" when the range has no
// upper end.
type Range struct {
	From, To string
}

// PrefixRange returns the Range of the strings that start with prefix:
// From is prefix, and To is prefix with its last character replaced by
// the next one (dropping trailing U+10FFFF characters, which have none),
// so that a search reads one range of an index, never a whole table.
func PrefixRange(prefix string) Range {
	rest := prefix
	for rest != "" {
		r, size := utf8.DecodeLastRuneInString(rest)
		rest = rest[:len(rest)-size]
		switch {
		case r == utf8.MaxRune:
			continue
		case r == 0xD7FF: // the surrogates are no characters
			r = 0xE000
		default:
			r++
		}
		return Range{From: prefix, To: rest + string(r)}
	}
	return Range{From: prefix}
}

// NameRange is the Range of names that start with q, ignoring ASCII case
// (FoldCase): what a list's search by name reads from an index on the
// folded name.
func NameRange(q string) Range { return PrefixRange(FoldCase(q)) }

// EmailRange is the Range of email addresses that start with q, which it
// lowercases as NormalizeEmail lowercases addresses.
func EmailRange(q string) Range { return PrefixRange(strings.ToLower(q)) }
