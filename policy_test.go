package tollgate_test

import (
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func TestCheckAPITokenBoundaries(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	s := tollgate.OrgSettings{APITokenMaxLifetimeSeconds: 3600, NoPublicTokens: true}
	for _, c := range []struct {
		name    string
		kind    tollgate.TokenKind
		expires *time.Time
		policy  string
	}{
		{"at the limit", tollgate.KindPrivate, at(time.Hour), ""},
		{"a microsecond past it", tollgate.KindPrivate, at(time.Hour + time.Microsecond), tollgate.PolicyAPITokenMaxLifetime},
		{"no expiry", tollgate.KindPrivate, nil, tollgate.PolicyAPITokenMaxLifetime},
		{"public", tollgate.KindPublic, at(time.Minute), tollgate.PolicyPublicTokens},
	} {
		err := s.CheckAPIToken(c.kind, c.expires, now)
		if got := tollgate.ErrorPolicy(err); got != c.policy || (c.policy != "" && tollgate.ErrorCode(err) != tollgate.EPolicy) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := (tollgate.OrgSettings{}).CheckAPIToken(tollgate.KindPublic, nil, now); err != nil {
		t.Errorf("no policy: %v", err)
	}
	if err := (tollgate.OrgSettings{MaxTokenTTLSeconds: 600}).CheckTokenTTL(600); err != nil {
		t.Errorf("TTL at the cap: %v", err)
	}
	if err := (tollgate.OrgSettings{MaxTokenTTLSeconds: 600}).CheckTokenTTL(601); tollgate.ErrorPolicy(err) != tollgate.PolicyMaxTokenTTL {
		t.Errorf("TTL over the cap: %v", err)
	}
	if err := (tollgate.OrgSettings{NoUserTokenImport: true}).CheckImport(); tollgate.ErrorPolicy(err) != tollgate.PolicyUserTokenImport {
		t.Errorf("import: %v", err)
	}
}

func TestApplySettings(t *testing.T) {
	f, ttl, yes, no := 0, 900, true, false
	s := tollgate.OrgSettings{NoUserTokenImport: true}
	changes := tollgate.OrgUpdate{TokenReuseFloorSeconds: &f, MaxTokenTTLSeconds: &ttl, PublicTokensAllowed: &no, UserTokenImportAllowed: &yes}.ApplySettings(&s)
	if s != (tollgate.OrgSettings{MaxTokenTTLSeconds: 900, NoPublicTokens: true}) {
		t.Fatalf("settings: %+v", s)
	}
	if len(changes) != 3 || changes["settings.public_tokens_allowed"].(map[string]any)["to"] != false ||
		changes["settings.user_token_import_allowed"].(map[string]any)["from"] != false {
		t.Fatalf("changes: %v", changes)
	}
	if again := (tollgate.OrgUpdate{MaxTokenTTLSeconds: &ttl, PublicTokensAllowed: &no}).ApplySettings(&s); len(again) != 0 {
		t.Fatalf("no change reported as %v", again)
	}
}

func TestViolationMessages(t *testing.T) {
	for _, c := range []struct {
		v    tollgate.PolicyViolation
		want string
	}{
		{tollgate.PolicyViolation{ViolationQuery: tollgate.ViolationQuery{Rule: tollgate.ViolationNoExpiry}, Count: 3}, "3 API tokens have no expiry."},
		{tollgate.PolicyViolation{ViolationQuery: tollgate.ViolationQuery{Rule: tollgate.ViolationNoExpiry}, Count: 1}, "1 API token has no expiry."},
		{tollgate.PolicyViolation{ViolationQuery: tollgate.ViolationQuery{Rule: tollgate.ViolationTokenTTLAbove, TTL: 3600}, Count: 2},
			"2 service accounts have a token lifetime above 1 hour."},
	} {
		if got := c.v.Message(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	for n, want := range map[int]string{1: "1 second", 59: "59 seconds", 60: "1 minute", 5400: "90 minutes", 7200: "2 hours", 2592000: "30 days"} {
		if got := tollgate.HumanSeconds(n); got != want {
			t.Errorf("HumanSeconds(%d) = %q, want %q", n, got, want)
		}
	}
}
