package tollgate

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestAuditUserAgentIsPlainText: a client's User-Agent may hold bytes that
// are not UTF-8, NULs, and any length; the event keeps plain text of at
// most 512 bytes, cut between characters.
func TestAuditUserAgentIsPlainText(t *testing.T) {
	for _, ua := range []string{"curl/8 \xff\xfe", "a\x00b", strings.Repeat("é", 300), strings.Repeat("a", 511) + "é"} {
		e := NewAuditEvent(time.Now(), "", Principal{}, "x.y", Principal{}, "", ua, nil)
		if !PlainText(e.UserAgent) || len(e.UserAgent) > MaxUserAgentLength || !utf8.ValidString(e.UserAgent) {
			t.Errorf("user agent %q kept as %q", ua, e.UserAgent)
		}
	}
	if e := NewAuditEvent(time.Now(), "", Principal{}, "x.y", Principal{}, "", "Mozilla/5.0", nil); e.UserAgent != "Mozilla/5.0" {
		t.Fatalf("a plain user agent changed: %q", e.UserAgent)
	}
}
