package server_test

import (
	"net/http"
	"net/http/httptest"
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

// shown follows a create form's redirect to the page that shows its
// secret once, as a browser would: with the session and the once cookie.
func shown(t *testing.T, h http.Handler, rec *httptest.ResponseRecorder, session *http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("a create form answered %d, want 303 to the page shown once: %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest("GET", rec.Header().Get("Location"), nil)
	req.AddCookie(session)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	out := httptest.NewRecorder()
	h.ServeHTTP(out, req)
	return out
}

// TestCreatedPagesShowOnce: each create form redirects to a page that
// shows the secret once; a reload shows it no more and creates nothing;
// the sealed page opens for no other session.
func TestCreatedPagesShowOnce(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	cookie := consoleSession(t, h)
	other := consoleSession(t, h)
	for _, c := range []struct {
		path   string
		values url.Values
		secret string
	}{
		{"/orgs/acme/service-accounts", url.Values{"name": {"once"}, "role": {"viewer"}, "ttl": {"1"}, "ttl_unit": {"hours"}}, "tgs_"},
		{"/orgs/acme/tokens", url.Values{"name": {"once"}, "service_account_id": {env.Account.ID}, "kind": {"private"}}, "tgp_"},
		{"/orgs/acme/service-accounts/" + env.Account.ID + "/rotate", url.Values{"grace": {"0"}}, "tgs_"},
	} {
		rec := form(h, c.path, c.values, cookie)
		if rec.Code != http.StatusSeeOther || strings.Contains(rec.Body.String(), c.secret) || strings.Contains(rec.Header().Get("Location"), c.secret) {
			t.Fatalf("%s: %d %v: the secret must not travel in the answer or the URL", c.path, rec.Code, rec.Header())
		}
		// Another session cannot open it.
		req := httptest.NewRequest("GET", rec.Header().Get("Location"), nil)
		req.AddCookie(other)
		for _, ck := range rec.Result().Cookies() {
			req.AddCookie(ck)
		}
		stolen := httptest.NewRecorder()
		h.ServeHTTP(stolen, req)
		if strings.Contains(stolen.Body.String(), c.secret) {
			t.Fatalf("%s: another session read the page", c.path)
		}
		page := shown(t, h, rec, cookie)
		if page.Code != 200 || !strings.Contains(page.Body.String(), c.secret) || page.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: the page shown once: %d %s", c.path, page.Code, page.Body)
		}
		// A reload: the cookie is gone (the browser dropped it), nothing is made again.
		again := get(h, rec.Header().Get("Location"), cookie)
		if again.Code != 404 || strings.Contains(again.Body.String(), c.secret) || !strings.Contains(again.Body.String(), "shown once") {
			t.Fatalf("%s: the reload: %d %s", c.path, again.Code, again.Body)
		}
	}
	list, _, err := env.App.ListAPITokens(t.Context(), env.Admin, "acme", tollgate.APITokenFilter{}, tollgate.Page{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("tokens after one create: %d %v", len(list), err)
	}
}

// TestAuditFiltersByName: the audit log's actor and target fields take an
// email or a name as well as an ID, an unknown one says so, and each row's
// details read as sentences ("from bob@… to ci-runner").
func TestAuditFiltersByName(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	cookie := consoleSession(t, h)
	sa, _, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: "ci-runner", Role: tollgate.RoleViewer, TokenTTLSeconds: 300})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "release", ServiceAccountID: env.Account.ID, Kind: tollgate.KindPrivate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.ReassignAPIToken(t.Context(), env.Admin, "acme", tok.ID, sa.ID); err != nil {
		t.Fatal(err)
	}
	page := get(h, "/orgs/acme/audit?"+url.Values{"actor_id": {"Admin@Example.com"}, "target_id": {"release"}, "action": {"token.reassigned"}}.Encode(), cookie)
	body := page.Body.String()
	if page.Code != 200 || !strings.Contains(body, "token.reassigned") || !strings.Contains(body, "to: ci-runner (service account)") ||
		!strings.Contains(body, "from: fuzz (service account)") || strings.Contains(body, `<span class="mono">token.created</span>`) {
		t.Fatalf("filtered by email and name: %d %s", page.Code, body)
	}
	if page := get(h, "/orgs/acme/audit?target_id=ci-runner", cookie); !strings.Contains(page.Body.String(), "service_account.created") {
		t.Errorf("a service account by name: %s", page.Body)
	}
	if page := get(h, "/orgs/acme/audit?actor_id=nobody%40example.com", cookie); page.Code != 422 || !strings.Contains(page.Body.String(), "No member, service account or token is named") {
		t.Errorf("an unknown name: %d", page.Code)
	}
}

// TestChangeRolesAtOnce: the members table has one Change roles button;
// it saves each role changed, nothing when none was, and shows a refusal
// (the last super admin) without saving past it.
func TestChangeRolesAtOnce(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	cookie := consoleSession(t, h)
	bob := adminID(t, h, memberSession(t, h, cookie, "acme", "bob@example.com", "member"))
	me := adminID(t, h, cookie)
	page := get(h, "/orgs/acme/members", cookie).Body.String()
	if strings.Count(page, ">Change roles</button>") != 1 || strings.Contains(page, ">Change</button>") {
		t.Fatalf("the members table should have one Change roles button")
	}
	post := func(v url.Values) string {
		t.Helper()
		rec := form(h, "/orgs/acme/members/roles", v, cookie)
		if rec.Code == http.StatusSeeOther {
			return get(h, rec.Header().Get("Location"), cookie).Body.String()
		}
		return rec.Body.String()
	}
	if got := post(url.Values{"role." + bob: {"viewer"}, "was." + bob: {"member"}, "role." + me: {"super_admin"}, "was." + me: {"super_admin"}}); !strings.Contains(got, "The roles were saved.") {
		t.Fatalf("change bob: %s", got)
	}
	org, _ := env.Raw.GetOrgBySlug(t.Context(), "acme")
	if m, err := env.Raw.GetMember(t.Context(), org.ID, bob); err != nil || m.Role != tollgate.RoleViewer {
		t.Fatalf("bob's role: %+v %v", m, err)
	}
	if got := post(url.Values{"role." + bob: {"viewer"}, "was." + bob: {"viewer"}}); !strings.Contains(got, "No role was changed.") {
		t.Fatalf("no change: %s", got)
	}
	if got := post(url.Values{"role." + me: {"viewer"}, "was." + me: {"super_admin"}}); !strings.Contains(got, "last super_admin") {
		t.Fatalf("demoting the last super admin: %s", got)
	}
	// Handing the role over and stepping down in one save works, whatever
	// the order of the fields.
	if got := post(url.Values{"role." + me: {"admin"}, "was." + me: {"super_admin"}, "role." + bob: {"super_admin"}, "was." + bob: {"viewer"}}); !strings.Contains(got, "The roles were saved.") {
		t.Fatalf("hand over and step down: %s", got)
	}
}
