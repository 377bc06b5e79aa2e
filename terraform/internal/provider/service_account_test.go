package provider_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/client"
)

// TestServiceAccount: create; change description, role, disabled and
// require_dpop in place; replace on a new name or lifetime; import by
// ID, organization/ID and name; notice changes and a deletion made behind
// Terraform's back; destroy.
func TestServiceAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		const typ = "tollgate_service_account"
		c := cfg{"name": "ci-runner", "description": "CI", "role": "member", "token_ttl_seconds": 3600}
		sa := h.create(typ, c)
		a := sa.attrs()
		id := sa.str("id")
		if !strings.HasPrefix(id, "sa_") || a["client_id"] != id || a["organization"] != "acme" || a["status"] != "active" || a["disabled"] != false ||
			a["require_dpop"] != false || a["email"] != "ci-runner@acme.serviceaccounts.tollgate.local" || a["token_endpoint"] == "" || a["created_at"] == "" {
			t.Fatalf("created %v", a)
		}
		got, err := client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", id))
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != "CI" || got.Role != client.CredentialRoleMember || got.TokenTtlSeconds != 3600 {
			t.Fatalf("the server has %+v", got)
		}
		// The audit log names the provider as the user agent.
		action := "service_account.created"
		evs, err := client.Decode[client.AuditEventList](s.admin.ListAuditEvents(ctx, "acme", &client.ListAuditEventsParams{Action: &action, TargetId: &id}))
		if err != nil {
			t.Fatal(err)
		}
		if len(evs.Items) != 1 || !strings.HasPrefix(evs.Items[0].UserAgent, "terraform-provider-tollgate/test ") || evs.Items[0].Actor.Name != "admin@example.com" {
			t.Fatalf("audit events %+v", evs.Items)
		}

		// In place: description, role, disabled, require_dpop.
		c = cfg{"name": "ci-runner", "description": "CI runner", "role": "viewer", "token_ttl_seconds": 3600, "disabled": true, "require_dpop": true}
		sa, replaced := h.apply(sa, c)
		if len(replaced) > 0 || sa.str("id") != id {
			t.Fatalf("an in-place change replaced the account (%v): %s → %s", replaced, id, sa.str("id"))
		}
		if sa.str("status") != "disabled" || sa.str("role") != "viewer" {
			t.Fatalf("updated %v", sa.attrs())
		}
		got, _ = client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", id))
		if got.Description != "CI runner" || got.Role != client.CredentialRoleViewer || got.Status != client.ServiceAccountStatusDisabled || got.RequireDpop == nil || !*got.RequireDpop {
			t.Fatalf("the server has %+v", got)
		}
		// Unset optional attributes go back to their defaults.
		c = cfg{"name": "ci-runner", "role": "viewer", "token_ttl_seconds": 3600}
		sa, _ = h.apply(sa, c)
		got, _ = client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", id))
		if sa.str("id") != id || got.Description != "" || got.Status != client.ServiceAccountStatusActive || (got.RequireDpop != nil && *got.RequireDpop) {
			t.Fatalf("after unsetting: state %v, server %+v", sa.attrs(), got)
		}

		// Replace: the API cannot rename an account nor change its token
		// lifetime, so either makes a new account, and the old one goes.
		for _, change := range []cfg{
			{"name": "ci-runner-2", "role": "viewer", "token_ttl_seconds": 3600},
			{"name": "ci-runner-2", "role": "viewer", "token_ttl_seconds": 600},
		} {
			old := sa.str("id")
			var replaced []string
			sa, replaced = h.apply(sa, change)
			if len(replaced) != 1 || sa.str("id") == old {
				t.Fatalf("changing to %v: replaced %v, id %s → %s", change, replaced, old, sa.str("id"))
			}
			if _, err := client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", old)); !client.HasCode(err, client.ProblemCodeNotFound) {
				t.Fatalf("the replaced account %s still answers: %v", old, err)
			}
		}
		if sa.attrs()["token_ttl_seconds"] != int64(600) || sa.str("name") != "ci-runner-2" {
			t.Fatalf("after replacing: %v", sa.attrs())
		}

		// Import by every accepted ID gives the state Terraform has.
		want := sa.attrs()
		for _, importID := range []string{sa.str("id"), "acme/" + sa.str("id"), "ci-runner-2", "acme/CI-RUNNER-2"} {
			imported := h.importState(typ, importID)
			if got := imported.attrs(); !sameMap(got, want) {
				t.Fatalf("import %s:\n got %v\nwant %v", importID, got, want)
			}
			h.wantNoChanges(imported, c0(sa))
		}
		// A name may look like an ID's prefix.
		lookalike := h.create(typ, cfg{"name": "sa_lookalike", "role": "viewer", "token_ttl_seconds": 300})
		if imported := h.importState(typ, "sa_lookalike"); imported.str("id") != lookalike.str("id") {
			t.Fatalf("import by the name sa_lookalike found %v", imported.attrs())
		}
		_, diags := h.tryImport(typ, "acme/no-such-account")
		wantDiag(t, diags, "no service account named no-such-account")
		_, diags = h.tryImport(typ, "a/b/c")
		wantDiag(t, diags, "Invalid import ID")

		// Drift: a change in the console shows in the next plan, and
		// applying the configuration puts it back.
		desc := "changed in the console"
		if _, err := client.Decode[client.ServiceAccount](s.admin.UpdateServiceAccount(ctx, "acme", sa.str("id"), client.UpdateServiceAccountJSONRequestBody{Description: &desc})); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Decode[client.ServiceAccount](s.admin.DisableServiceAccount(ctx, "acme", sa.str("id"))); err != nil {
			t.Fatal(err)
		}
		if h.refresh(sa) {
			t.Fatal("the account vanished")
		}
		if sa.str("description") != desc || sa.str("status") != "disabled" {
			t.Fatalf("refresh did not notice the console's changes: %v", sa.attrs())
		}
		p := h.plan(typ, sa, c0(sa))
		if ch := p.changes(sa.state); !slices.Equal(ch, []string{"description", "disabled", "status"}) || len(p.replace) > 0 {
			t.Fatalf("plan after drift changes %v, replaces %v", ch, p.replace)
		}
		sa, _ = h.apply(sa, c0(sa))
		got, _ = client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", sa.str("id")))
		if got.Description != "" || got.Status != client.ServiceAccountStatusActive {
			t.Fatalf("apply did not undo the drift: %+v", got)
		}

		// Deleted behind Terraform's back: Read removes it from the state,
		// and the next apply creates it again.
		if err := client.NoContent(s.admin.DeleteServiceAccount(ctx, "acme", sa.str("id"))); err != nil {
			t.Fatal(err)
		}
		if !h.refresh(sa) {
			t.Fatal("Read kept an account the server deleted")
		}
		sa = h.create(typ, c0(sa))

		// Destroy.
		h.destroy(sa)
		if _, err := client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(ctx, "acme", sa.str("id"))); !client.HasCode(err, client.ProblemCodeNotFound) {
			t.Fatalf("destroyed account answers: %v", err)
		}
		// Destroying what is already gone succeeds.
		h.destroy(sa)
	})
}

// TestServiceAccountValidation: configurations that break a rule fail at
// validation, before any request, naming the attribute; a rule only the
// server knows fails at apply with its detail, code and field.
func TestServiceAccountValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		h := s.superAdmin(t)
		const typ = "tollgate_service_account"
		for _, tc := range []struct {
			c    cfg
			want string
		}{
			{cfg{"name": "has space", "role": "viewer", "token_ttl_seconds": 300}, "[name]"},
			{cfg{"name": "abcdefghijklmnopqrstu", "role": "viewer", "token_ttl_seconds": 300}, "[name]"},
			{cfg{"name": "ok", "role": "super_admin", "token_ttl_seconds": 300}, "[role]"},
			{cfg{"name": "ok", "role": "viewer", "token_ttl_seconds": 299}, "[token_ttl_seconds]"},
			{cfg{"name": "ok", "role": "viewer", "token_ttl_seconds": 2592001}, "[token_ttl_seconds]"},
			{cfg{"name": "ok", "role": "viewer", "token_ttl_seconds": 300, "description": strings.Repeat("é", 141)}, "[description]"},
		} {
			wantDiag(t, h.validate(typ, tc.c), tc.want)
		}
		// Names are unique ignoring case: only the server knows.
		h.create(typ, cfg{"name": "dup", "role": "viewer", "token_ttl_seconds": 300})
		_, diags := h.tryCreate(typ, cfg{"name": "DUP", "role": "viewer", "token_ttl_seconds": 300})
		wantDiag(t, diags, "Cannot create the service account [name]", "already exists", `code "conflict"`, `field "name"`)
		// An unknown organization is the server's 404.
		_, diags = h.tryCreate(typ, cfg{"organization": "no-such-org", "name": "x", "role": "viewer", "token_ttl_seconds": 300})
		wantDiag(t, diags, "Cannot create the service account", `code "not_found"`)
	})
}

// c0 is the configuration that matches a service account's state.
func c0(sa *res) cfg {
	a := sa.attrs()
	return cfg{"name": a["name"], "role": a["role"], "token_ttl_seconds": a["token_ttl_seconds"]}
}

// sameMap compares decoded states.
func sameMap(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if fmtValue(v) != fmtValue(b[k]) {
			return false
		}
	}
	return true
}
