package provider_test

import (
	"testing"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// TestFederatedCredential: create with the server's default audience;
// any change replaces; import; a deletion in the console leaves the
// state; destroy deletes.
func TestFederatedCredential(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		const typ = "tollgate_federated_credential"
		sa := h.create("tollgate_service_account", cfg{"name": "gha", "role": "member", "token_ttl_seconds": 600})
		id := sa.str("id")
		c := cfg{"service_account_id": id, "name": "github-deploy", "issuer": "https://token.actions.githubusercontent.com",
			"subject": "repo:acme/app:environment:prod", "claims": map[string]string{"repository": "acme/app", "ref": "refs/heads/main"}}
		fc := h.create(typ, c)
		a := fc.attrs()
		if a["audience"] != stacktest.Issuer || a["id"] == "" || a["created_at"] == "" || fmtValue(a["claims"]) != "map[ref:refs/heads/main repository:acme/app]" {
			t.Fatalf("created %v", a)
		}
		l, err := client.Decode[client.FederatedCredentialList](s.admin.ListFederatedCredentials(ctx, "acme", id))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 1 || l.Items[0].Subject == nil || *l.Items[0].Subject != "repo:acme/app:environment:prod" || l.Items[0].Claims["ref"] != "refs/heads/main" {
			t.Fatalf("the server has %+v", l.Items)
		}

		// Every change replaces: the API has no update.
		for _, change := range []func(){
			func() { c["subject"] = "repo:acme/app:environment:staging" },
			func() { c["claims"] = map[string]string{"repository": "acme/app"} },
			func() { c["audience"] = "https://api.acme.example" },
			func() { delete(c, "subject"); delete(c, "claims") },
		} {
			change()
			old := fc.str("id")
			var replaced []string
			fc, replaced = h.apply(fc, c)
			if len(replaced) == 0 || fc.str("id") == old {
				t.Fatalf("changing to %v did not replace", c)
			}
		}
		if a := fc.attrs(); a["subject"] != nil || a["claims"] != nil || a["audience"] != "https://api.acme.example" {
			t.Fatalf("after the changes %v", a)
		}

		// Import.
		imported := h.importState(typ, id+"/"+fc.str("id"))
		if !sameMap(imported.attrs(), fc.attrs()) {
			t.Fatalf("import:\n got %v\nwant %v", imported.attrs(), fc.attrs())
		}
		h.wantNoChanges(imported, c)

		// Deleted in the console: Read removes it.
		if err := client.NoContent(s.admin.DeleteFederatedCredential(ctx, "acme", id, fc.str("id"))); err != nil {
			t.Fatal(err)
		}
		if !h.refresh(fc) {
			t.Fatal("Read kept a deleted federated credential")
		}
		fc = h.create(typ, c)
		h.destroy(fc)
		if l, _ := client.Decode[client.FederatedCredentialList](s.admin.ListFederatedCredentials(ctx, "acme", id)); len(l.Items) != 0 {
			t.Fatalf("destroyed, the server still has %+v", l.Items)
		}

		// The server's rules: https issuers only.
		_, diags := h.tryCreate(typ, cfg{"service_account_id": id, "name": "insecure", "issuer": "http://issuer.example.com"})
		wantDiag(t, diags, "[issuer]", "https", `code "invalid"`)
	})
}
