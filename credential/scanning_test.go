package credential_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/credential"
)

// scanningDoc is the page scanners' patterns are copied from.
const scanningDoc = "../docs/secret-scanning.md"

// docPatterns reads docs/secret-scanning.md: the table's pattern per
// prefix ("tg?_" for the one of all kinds), and the bounded patterns for
// GitHub, gitleaks and trufflehog, whose group 1 (or whole match) is the
// credential.
func docPatterns(t *testing.T) (table map[string]string, bounded map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(scanningDoc)
	if err != nil {
		t.Fatal(err)
	}
	table, bounded = map[string]string{}, map[string]string{}
	cell := regexp.MustCompile("`([^`]+)`")
	github := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "| ") && strings.Count(line, "`") >= 4:
			cells := strings.Split(line, "|")
			prefix, pattern := cell.FindStringSubmatch(cells[2]), cell.FindStringSubmatch(cells[3])
			if prefix != nil && pattern != nil {
				table[prefix[1]] = pattern[1]
			}
		case strings.HasPrefix(line, "- **Secret format:** "), strings.HasPrefix(line, "- **Before secret:** "), strings.HasPrefix(line, "- **After secret:** "):
			github[strings.SplitN(line, ":", 2)[0]] = cell.FindStringSubmatch(line)[1]
		case strings.HasPrefix(line, "regex = '''"):
			bounded["gitleaks"] = strings.TrimSuffix(strings.TrimPrefix(line, "regex = '''"), "'''")
		case strings.HasPrefix(strings.TrimSpace(line), "tollgate: '"):
			bounded["trufflehog"] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "tollgate: '"), "'")
		}
	}
	if len(github) == 3 {
		bounded["github"] = github["- **Before secret"] + "(" + github["- **Secret format"] + ")" + github["- **After secret"]
	}
	if len(table) != 5 || len(bounded) != 3 {
		t.Fatalf("patterns read from %s: table %v, bounded %v", scanningDoc, table, bounded)
	}
	return table, bounded
}

var kinds = []string{credential.PrefixClientSecret, credential.PrefixPrivateToken, credential.PrefixPublicToken, credential.PrefixCLISession}

// TestScanningPatterns checks the documented patterns against generated
// credentials: each kind's pattern matches its own credentials whole and
// no other kind's; the bounded patterns find a credential in the places
// it leaks (an env file, JSON, a URL) and nothing in near misses (one
// character short or long, another prefix, glued to a word).
func TestScanningPatterns(t *testing.T) {
	table, bounded := docPatterns(t)
	for _, kind := range kinds {
		for range 50 {
			c := credential.NewCredential(kind)
			for prefix, pattern := range table {
				re := regexp.MustCompile(`\A(?:` + pattern + `)\z`)
				want := prefix == kind || prefix == "tg?_"
				if re.MatchString(c) != want {
					t.Fatalf("table pattern %s on %s: match %v, want %v", pattern, c, !want, want)
				}
				for _, miss := range []string{c[:len(c)-1], c + "A", "tgx_" + c[4:]} {
					if re.MatchString(miss) {
						t.Fatalf("table pattern %s matches the near miss %s", pattern, miss)
					}
				}
			}
			for name, pattern := range bounded {
				re := regexp.MustCompile(pattern)
				for _, context := range []string{c, "TOLLGATE_TOKEN=" + c + "\n", `{"secret": "` + c + `"}`, "https://x.example/?token=" + c + "&next=1", "Bearer " + c + "."} {
					m := re.FindStringSubmatch(context)
					if m == nil || m[len(m)-1] != c {
						t.Fatalf("%s pattern %s in %q: %q", name, pattern, context, m)
					}
				}
				for _, miss := range []string{c[:len(c)-1], c + "A", "x" + c, "tgx_" + c[4:], c[:len(c)-1] + "_"} {
					if m := re.FindStringSubmatch(`"` + miss + `"`); m != nil {
						t.Fatalf("%s pattern %s matches the near miss %q: %q", name, pattern, miss, m)
					}
				}
			}
		}
	}
}
