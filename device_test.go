package tollgate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tollgate/tollgate"
)

// TestUserCodes: a drawn code is in its display form and normalizes to
// eight letters of the alphabet, and codes are not repeated.
func TestUserCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := tollgate.NewUserCode()
		n, err := tollgate.NormalizeUserCode(c)
		if err != nil || len(c) != 9 || c[4] != '-' || len(n) != 8 || tollgate.FormatUserCode(n) != c {
			t.Fatalf("code %q normalizes to %q, %v", c, n, err)
		}
		if seen[n] {
			t.Fatalf("%s drawn twice in 1000", n)
		}
		seen[n] = true
	}
	for in, want := range map[string]string{"bcdf-ghjk": "BCDFGHJK", " BCDF GHJK ": "BCDFGHJK", "bc-df-gh-jk": "BCDFGHJK"} {
		if got, err := tollgate.NormalizeUserCode(in); err != nil || got != want {
			t.Errorf("NormalizeUserCode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "BCDFGHJ", "BCDFGHJKL", "ABCDEFGH", "BCDF-GHJ0", "ＢＣＤＦＧＨＪＫ"} {
		if _, err := tollgate.NormalizeUserCode(in); tollgate.ErrorCode(err) != tollgate.EInvalid || tollgate.ErrorField(err) != "user_code" {
			t.Errorf("NormalizeUserCode(%q) = %v, want an invalid user_code", in, err)
		}
	}
}

// FuzzNormalizeUserCode: whatever is typed, the answer is an error or
// eight letters of the alphabet, and normalizing is idempotent.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdfghjk", "\xff", "ＢＣＤＦ", "BCDF-GHJK-", "b c d f g h j k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := tollgate.NormalizeUserCode(s)
		if err != nil {
			return
		}
		if len(n) != 8 || !utf8.ValidString(n) || strings.Trim(n, "BCDFGHJKLMNPQRSTVWXZ") != "" {
			t.Fatalf("%q normalized to %q", s, n)
		}
		if again, err := tollgate.NormalizeUserCode(tollgate.FormatUserCode(n)); err != nil || again != n {
			t.Fatalf("%q: not idempotent: %q %v", n, again, err)
		}
	})
}
