package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// TestReassignNotice: after a reassignment the Tokens page names the
// token and its new owner, and says when its role was lowered to the
// owner's.
func TestReassignNotice(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	cookie := consoleSession(t, h)
	mkSA := func(name string, role tollgate.Role) string {
		sa, _, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: name, Role: role, TokenTTLSeconds: 300})
		if err != nil {
			t.Fatal(err)
		}
		return sa.ID
	}
	deploy, runner, peer := mkSA("deploy", tollgate.RoleAdmin), mkSA("ci-runner", tollgate.RoleViewer), mkSA("peer", tollgate.RoleAdmin)
	tok, _, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "release", ServiceAccountID: deploy, Kind: tollgate.KindPrivate})
	if err != nil {
		t.Fatal(err)
	}
	follow := func(owner string) string {
		t.Helper()
		rec := form(h, "/orgs/acme/tokens/"+tok.ID+"/reassign", url.Values{"service_account_id": {owner}}, cookie)
		if rec.Code != 303 {
			t.Fatalf("reassign: %d %s", rec.Code, rec.Body)
		}
		return get(h, rec.Header().Get("Location"), cookie).Body.String()
	}
	if page := follow(peer); !strings.Contains(page, "release was reassigned to peer.") || strings.Contains(page, "lowered") {
		t.Errorf("reassigned to an owner of the same role: %s", page)
	}
	if page := follow(runner); !strings.Contains(page, "release was reassigned to ci-runner. Its role was lowered from admin to viewer, its new owner&#39;s role.") {
		t.Errorf("reassigned to a viewer: %s", page)
	}
}
