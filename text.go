package tollgate

import (
	"strings"
	"unicode/utf8"
)

// PlainText reports whether s can be stored and compared alike by every
// store: valid UTF-8 without NUL characters. (PostgreSQL refuses both in
// text; SQLite would keep them.) The edge refuses other input.
func PlainText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
