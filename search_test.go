package tollgate

import (
	"strings"
	"testing"
	"time"
)

func TestPrefixRange(t *testing.T) {
	for _, c := range []struct{ prefix, to string }{
		{"abc", "abd"},
		{"a-", "a."},
		{"é", "ê"},
		{"a\uD7FF", "a\uE000"}, // past the surrogates
		{"a\U0010FFFF", "b"},   // the last character has no successor
		{"\U0010FFFF\U0010FFFF", ""},
		{"", ""},
	} {
		if got := PrefixRange(c.prefix); got.From != c.prefix || got.To != c.to {
			t.Errorf("PrefixRange(%q) = %+q, want {%q %q}", c.prefix, got, c.prefix, c.to)
		}
	}
	// Every string with the prefix lies in the range, and no other.
	r := PrefixRange("ab")
	for s, in := range map[string]bool{"ab": true, "ab\U0010FFFF": true, "abz": true, "ac": false, "aa\U0010FFFF": false, "a": false} {
		if got := s >= r.From && s < r.To; got != in {
			t.Errorf("%q in %+q = %v, want %v", s, r, got, in)
		}
	}
}

func TestFoldCase(t *testing.T) {
	if got := FoldCase("Deploy-BOT_Été"); got != "deploy-bot_Été" {
		t.Fatalf("FoldCase = %q", got)
	}
	if s := "already lower"; FoldCase(s) != s {
		t.Fatal("FoldCase changed a folded string")
	}
}

func TestValidateSearch(t *testing.T) {
	for q, ok := range map[string]bool{"": true, "bot": true, strings.Repeat("é", MaxSearchLength): true,
		strings.Repeat("a", MaxSearchLength+1): false, "a\x00": false, "\xff": false} {
		if err := ValidateSearch(q); (err == nil) != ok || err != nil && ErrorField(err) != "q" {
			t.Errorf("ValidateSearch(%q) = %v", q, err)
		}
	}
}

func TestNameCursor(t *testing.T) {
	c := EncodeNameCursor("deploy.bot", "sa_1")
	name, id, err := DecodeNameCursor(c)
	if err != nil || name != "deploy.bot" || id != "sa_1" {
		t.Fatalf("DecodeNameCursor = %q %q %v", name, id, err)
	}
	if _, _, err := DecodeCursor(c); ErrorCode(err) != EInvalid {
		t.Fatalf("a name cursor decoded as a time cursor: %v", err)
	}
	if _, _, err := DecodeNameCursor(EncodeCursor(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "sa_1")); ErrorCode(err) != EInvalid {
		t.Fatalf("a time cursor decoded as a name cursor: %v", err)
	}
	if err := (Page{Limit: 1, Cursor: c}).Validate(); err != nil {
		t.Fatalf("Page.Validate refused a name cursor: %v", err)
	}
	if err := (Page{Limit: 1, Cursor: "~~"}).Validate(); ErrorCode(err) != EInvalid {
		t.Fatalf("Page.Validate accepted garbage: %v", err)
	}
}
