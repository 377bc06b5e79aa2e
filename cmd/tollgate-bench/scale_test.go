package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
)

// TestScale runs tollgate-bench scale, briefly, on a small seed of each
// store against its 1,000-row database: every operation of the table is
// measured on both without an error (the member removal refused with 409
// as it must be), the rotations report their cache and memory, and every
// statement behind the operations is explained, on SQLite without a full
// scan of a large table. It asserts what ran, never how fast.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Tollgate")
	}
	bin, err := buildTollgate(t.Context(), testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	type dbs struct{ large, small string }
	stores := map[string]dbs{"sqlite": {large: filepath.Join(t.TempDir(), "large.db")}}
	if testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
		stores["postgres"] = dbs{large: pgtest.URL(t), small: pgtest.URL(t)}
	}
	plan := []string{"--orgs", "2", "--accounts", "2000", "--tokens", "4000", "--events", "4000"}
	for name, db := range stores {
		t.Run(name, func(t *testing.T) {
			key := filepath.Join(t.TempDir(), "tollgate.key")
			var out, errOut strings.Builder
			if err := runSeed(t.Context(), append([]string{"--db", db.large, "--key-file", key}, plan...), &out, &errOut); err != nil {
				t.Fatalf("seed: %v\n%s", err, errOut.String())
			}
			out.Reset()
			args := append([]string{"--db", db.large, "--key-file", key, "--tollgate-bin", bin, "--duration", "150ms", "--warmup", "50ms", "--conns", "4", "--rotation", "1000", "--fill", "100ms"}, plan...)
			if db.small != "" {
				args = append(args, "--small-db", db.small)
			}
			if err := runScale(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("scale: %v\n%s", err, errOut.String())
			}
			got := out.String()
			t.Log(got)
			rows := regexp.MustCompile(`(?m)^(\S.*?)\s+(\d+)\s+[\d.]+ms\s+(\d+)\s+[\d.]+ms\s+\S+\s+\S+%\s+(\d+)$`).FindAllStringSubmatch(got, -1)
			names := map[string]bool{}
			for _, r := range rows {
				names[r[1]] = true
				if r[2] == "0" || r[3] == "0" || r[4] != "0" {
					t.Errorf("%s: %s and %s requests/s, %s errors", r[1], r[2], r[3], r[4])
				}
			}
			for _, want := range []string{"get service account by ID", "service accounts, deep page", "service accounts, search", "API tokens, search", "API tokens, deep page", "API tokens of one owner",
				"audit log by actor", "audit log by action", "audit log by target", "audit log by time range", "token endpoint, reused token",
				"token endpoint, minting", "member removal refused, owns 3", "/check, cold cache, random token",
				"/check, many tokens, cache TTL 1s", "/check, many tokens, cache TTL 1h"} {
				if !names[want] {
					t.Errorf("no row for %q", want)
				}
			}
			if m := regexp.MustCompile(`(\d+) of (\d+) operations at scale`).FindStringSubmatch(got); m == nil || m[2] != strconv.Itoa(len(rows)-2) {
				t.Errorf("the verdict does not count the %d compared rows: %v", len(rows)-2, m)
			}
			if n := len(regexp.MustCompile(`(?m)^(small|seeded): /check over \d+ distinct tokens, cache TTL \S+: hit rate [\d.]+% of \d+ look-ups, \d+ credentials cached; server RSS \d+ MiB \(peak \d+ MiB\)$`).FindAllString(got, -1)); n != 4 {
				t.Errorf("%d rotation lines, want 4", n)
			}
			// PostgreSQL plans by the data's size, and rightly reads a
			// table of this small seed whole where it would not at scale:
			// its plans are checked at scale, by the store's own test.
			m := regexp.MustCompile(`(\d+) statements explained, (\d+) without a full scan`).FindStringSubmatch(got)
			if m == nil || m[1] == "0" || (name == "sqlite" && m[1] != m[2]) {
				t.Errorf("plans: %v", m)
			}
		})
	}
}

// testWriter writes to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"API tokens, deep page":             "api-tokens-deep-page",
		"/check, many tokens, cache TTL 1h": "check-many-tokens-cache-ttl-1h",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
