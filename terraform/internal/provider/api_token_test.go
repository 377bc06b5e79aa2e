package provider_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
)

// TestAPIToken: a private token that /check accepts; rename, new domains
// and reassignment in place, keeping the token's value; replacement on a
// new kind, role or expiry, which revokes the old value; import; drift;
// destroy revokes.
func TestAPIToken(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		const typ = "tollgate_api_token"
		owner := h.create("tollgate_service_account", cfg{"name": "ci", "role": "member", "token_ttl_seconds": 600})
		other := h.create("tollgate_service_account", cfg{"name": "ci-2", "role": "viewer", "token_ttl_seconds": 600})

		c := cfg{"name": "deploy", "service_account_id": owner.str("id"), "kind": "private"}
		tok := h.create(typ, c)
		a := tok.attrs()
		value := tok.str("token")
		if !strings.HasPrefix(value, "tgp_") || !strings.HasPrefix(tok.str("id"), "tok_") || a["role"] != "member" || a["owner_type"] != "service_account" ||
			a["domains"] != nil || a["expires_at"] != nil || a["description"] != "" || a["created_at"] == "" {
			t.Fatalf("created %v", a)
		}
		if !h.attribute(typ, "token").Sensitive {
			t.Fatal("token is not sensitive")
		}
		s.wantCheck(t, value, 200, owner.str("id"))

		// In place: name and description.
		c = cfg{"name": "deploy-prod", "description": "prod deploys", "service_account_id": owner.str("id"), "kind": "private"}
		tok, replaced := h.apply(tok, c)
		if len(replaced) > 0 || tok.str("token") != value {
			t.Fatalf("renaming replaced the token (%v)", replaced)
		}
		got, _ := client.Decode[client.APIToken](s.admin.GetAPIToken(ctx, "acme", tok.str("id")))
		if got.Name != "deploy-prod" || got.Description != "prod deploys" {
			t.Fatalf("the server has %+v", got)
		}
		// In place: reassignment to another account keeps the value; the
		// role, above the new owner's, is lowered to it.
		c["service_account_id"] = other.str("id")
		tok, replaced = h.apply(tok, c)
		if len(replaced) > 0 || tok.str("token") != value || tok.str("role") != "viewer" {
			t.Fatalf("reassigning: replaced %v, state %v", replaced, tok.attrs())
		}
		s.wantCheck(t, value, 200, other.str("id"))

		// Replace: kind, role and expiry cannot change; the old value is
		// revoked.
		expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		for _, change := range []cfg{
			{"name": "deploy-prod", "service_account_id": owner.str("id"), "kind": "private", "role": "member"},
			{"name": "deploy-prod", "service_account_id": owner.str("id"), "kind": "private", "role": "member", "expires_at": expires},
			{"name": "deploy-prod", "service_account_id": owner.str("id"), "kind": "public", "role": "member", "expires_at": expires, "domains": []string{"https://App.Example.com/"}},
		} {
			old := tok
			tok, replaced = h.apply(tok, change)
			if len(replaced) == 0 || tok.str("id") == old.str("id") || tok.str("token") == old.str("token") {
				t.Fatalf("changing to %v: replaced %v", change, replaced)
			}
			s.wantCheck(t, old.str("token"), 401, "")
			c = change
		}
		value = tok.str("token")
		if !strings.HasPrefix(value, "tgq_") || tok.str("expires_at") != expires {
			t.Fatalf("public token %v", tok.attrs())
		}
		// The domain keeps its configured spelling; the server holds the
		// canonical origin, which /check matches.
		if d := tok.attrs()["domains"]; fmtValue(d) != "[https://App.Example.com/]" {
			t.Fatalf("domains %v", d)
		}
		s.wantCheck(t, value, 200, owner.str("id"), "Origin", "https://app.example.com")
		s.wantCheck(t, value, 403, "", "Origin", "https://evil.example.com")
		// In place: domains.
		c["domains"] = []string{"https://app.example.com", "https://admin.example.com"}
		tok, replaced = h.apply(tok, c)
		if len(replaced) > 0 || tok.str("token") != value {
			t.Fatalf("new domains replaced the token (%v)", replaced)
		}
		s.wantCheck(t, value, 200, owner.str("id"), "Origin", "https://admin.example.com")

		// Import: everything but the token's value.
		imported := h.importState(typ, tok.str("id"))
		want := tok.attrs()
		want["token"] = nil
		if got := imported.attrs(); !sameMap(got, want) {
			t.Fatalf("import:\n got %v\nwant %v", got, want)
		}
		p := h.plan(typ, imported, c)
		if ch := p.changes(imported.state); len(ch) > 0 || len(p.replace) > 0 {
			t.Fatalf("the plan after import changes %v", ch)
		}

		// Drift: renamed and re-scoped in the console.
		name, domains := "renamed", []string{"https://other.example.com"}
		if _, err := client.Decode[client.APIToken](s.admin.UpdateAPIToken(ctx, "acme", tok.str("id"), client.UpdateAPITokenJSONRequestBody{Name: &name, Domains: &domains})); err != nil {
			t.Fatal(err)
		}
		h.refresh(tok)
		p = h.plan(typ, tok, c)
		if ch := p.changes(tok.state); !slices.Equal(ch, []string{"domains", "name"}) || len(p.replace) > 0 {
			t.Fatalf("the plan after drift changes %v, replaces %v", ch, p.replace)
		}
		tok, _ = h.apply(tok, c)
		s.wantCheck(t, value, 200, owner.str("id"), "Origin", "https://admin.example.com")

		// Revoked in the console: Read removes it.
		if err := client.NoContent(s.admin.RevokeAPIToken(ctx, "acme", tok.str("id"))); err != nil {
			t.Fatal(err)
		}
		if !h.refresh(tok) {
			t.Fatal("Read kept a revoked token")
		}

		// Destroy revokes at once.
		tok = h.create(typ, cfg{"name": "short-lived", "service_account_id": owner.str("id"), "kind": "private"})
		s.wantCheck(t, tok.str("token"), 200, owner.str("id"))
		h.destroy(tok)
		s.wantCheck(t, tok.str("token"), 401, "")
	})
}

// TestAPITokenImportedFromMember: a legacy token a member owns, imported,
// is reassigned to the configured service account by the next apply,
// keeping its value.
func TestAPITokenImportedFromMember(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		sa := h.create("tollgate_service_account", cfg{"name": "legacy-owner", "role": "member", "token_ttl_seconds": 600})
		me, err := client.Decode[client.Session](s.admin.GetMe(ctx))
		if err != nil {
			t.Fatal(err)
		}
		const value = "legacy-0123456789abcdef0123456789abcdef"
		legacy, err := client.Decode[client.APIToken](s.admin.ImportAPIToken(ctx, "acme", client.ImportAPITokenJSONRequestBody{
			Name: "legacy", OwnerUserId: me.User.Id, Token: value, Kind: client.APITokenKindPrivate}))
		if err != nil {
			t.Fatal(err)
		}
		tok := h.importState("tollgate_api_token", "acme/"+legacy.Id)
		if a := tok.attrs(); a["owner_type"] != "user" || a["service_account_id"] != nil {
			t.Fatalf("imported %v", a)
		}
		c := cfg{"name": "legacy", "service_account_id": sa.str("id"), "kind": "private"}
		tok, replaced := h.apply(tok, c)
		if len(replaced) > 0 || tok.str("owner_type") != "service_account" || tok.str("id") != legacy.Id {
			t.Fatalf("reassigning the imported token: replaced %v, %v", replaced, tok.attrs())
		}
		s.wantCheck(t, value, 200, sa.str("id"))
	})
}

// TestAPITokenRefusals: a rule the server enforces fails with its detail,
// code and field on the attribute.
func TestAPITokenRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		h := s.superAdmin(t)
		sa := h.create("tollgate_service_account", cfg{"name": "web", "role": "viewer", "token_ttl_seconds": 600})
		_, diags := h.tryCreate("tollgate_api_token", cfg{"name": "web", "service_account_id": sa.str("id"), "kind": "public", "domains": []string{"https://*.example.com"}})
		wantDiag(t, diags, "Cannot create the API token [domains]", "Wildcards are not supported", `code "invalid"`, `field "domains`)
		_, diags = h.tryCreate("tollgate_api_token", cfg{"name": "web", "service_account_id": sa.str("id"), "kind": "private", "role": "admin"})
		wantDiag(t, diags, "[role]", `code "invalid"`)
		wantDiag(t, h.validate("tollgate_api_token", cfg{"name": "web", "service_account_id": sa.str("id"), "kind": "secret"}), "[kind]")
		// An explicit role the new owner cannot hold: the reassignment
		// lowers it, and the apply says so.
		member := h.create("tollgate_service_account", cfg{"name": "member", "role": "member", "token_ttl_seconds": 600})
		c := cfg{"name": "m", "service_account_id": member.str("id"), "kind": "private", "role": "member"}
		tok := h.create("tollgate_api_token", c)
		c["service_account_id"] = sa.str("id")
		h.refresh(tok)
		p := h.plan("tollgate_api_token", tok, c)
		if len(p.replace) > 0 {
			t.Fatalf("reassigning replaces %v", p.replace)
		}
		_, diags = h.applyPlan("tollgate_api_token", tok, c, p)
		wantDiag(t, diags, "The API token's role was lowered [role]", `Set role = "viewer"`)
		wantDiag(t, h.validate("tollgate_api_token", cfg{"name": "web", "service_account_id": sa.str("id"), "kind": "private", "expires_at": "tomorrow"}), "[expires_at]")
	})
}
