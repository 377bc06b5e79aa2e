package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// listEnv is a stack whose org acme holds 120 seeded service accounts
// (bot-0000 … bot-0119) and 130 tokens, with the admin's console session.
func listEnv(t *testing.T) (*stacktest.Env, *http.Cookie, []tollgate.ServiceAccount) {
	t.Helper()
	env := stacktest.New(t, stacktest.Options{})
	org, err := env.Raw.GetOrgBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	sas := stacktest.Seed(t, env.Raw, org, 120, 130, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	return env, consoleSession(t, env.Handler), sas
}

// link returns the target of the page's first link whose text starts
// with label ("" when there is none).
func link(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]*)"[^>]*>` + regexp.QuoteMeta(label)).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// names returns, in order, the seeded names (bot-…, tok-…) a page shows in
// its table cells or links.
func names(body, prefix string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`>(`+prefix+`-\d+)</`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestConsoleListsPageAndSearch(t *testing.T) {
	env, cookie, _ := listEnv(t)
	h := env.Handler
	for _, c := range []struct {
		path, prefix string
		rows         int // rows on the first page
	}{
		{"/orgs/acme/service-accounts", "bot", 50},
		{"/orgs/acme/tokens", "tok", 50},
	} {
		rec := get(h, c.path, cookie)
		body := rec.Body.String()
		if rec.Code != 200 || len(names(body, c.prefix)) != c.rows || !strings.Contains(body, `<label for="search-q">`) {
			t.Fatalf("%s: %d, %d rows", c.path, rec.Code, len(names(body, c.prefix)))
		}
		if link(t, body, "← First page") != "" {
			t.Fatalf("%s: the first page links to the first page", c.path)
		}
		// The pages, through their Next links, show each row once, in order.
		seen := map[string]bool{}
		var all []string
		next := c.path
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatalf("%s: the pages do not end", c.path)
			}
			rec := get(h, next, cookie)
			if rec.Code != 200 {
				t.Fatalf("%s: %d", next, rec.Code)
			}
			body := rec.Body.String()
			if pages > 0 && link(t, body, "← First page") != c.path {
				t.Fatalf("%s: First page link %q", next, link(t, body, "← First page"))
			}
			for _, n := range names(body, c.prefix) {
				if seen[n] {
					t.Fatalf("%s: %s shown twice", c.path, n)
				}
				seen[n] = true
				all = append(all, n)
			}
			next = link(t, body, "Next page →")
			if next != "" && (!strings.Contains(next, "cursor=") || strings.Contains(next, "offset")) {
				t.Fatalf("next link %q", next)
			}
		}
		if want := map[string]int{"bot": 120, "tok": 130}[c.prefix]; len(all) != want {
			t.Fatalf("%s: %d rows over all pages, want %d", c.path, len(all), want)
		}
	}

	// A search narrows by the start of the name, ignoring case, in name
	// order, and pages keep the search.
	body := get(h, "/orgs/acme/service-accounts?q=BOT-00", cookie).Body.String()
	if got := names(body, "bot"); len(got) != 50 || got[0] != "bot-0000" || got[49] != "bot-0049" {
		t.Fatalf("search bot-00: %v", got)
	}
	next := link(t, body, "Next page →")
	if !strings.Contains(next, "q=BOT-00") {
		t.Fatalf("the next link drops the search: %q", next)
	}
	if got := names(get(h, next, cookie).Body.String(), "bot"); len(got) != 50 || got[0] != "bot-0050" {
		t.Fatalf("search bot-00, page 2: %v", got)
	}
	if got := names(get(h, "/orgs/acme/service-accounts?q=bot-0119%40acme", cookie).Body.String(), "bot"); len(got) != 1 || got[0] != "bot-0119" {
		t.Fatalf("search by email: %v", got)
	}
	if body := get(h, "/orgs/acme/service-accounts?q=nobody", cookie).Body.String(); !strings.Contains(body, "No service account starts with “nobody”") {
		t.Fatal("an empty search says nothing")
	}
	// Tokens: the owner filter and the search together, kept by the links.
	sa, _, err := env.App.ListServiceAccounts(t.Context(), env.Admin, "acme", tollgate.ServiceAccountFilter{Query: "bot-0003"}, tollgate.Page{Limit: 1})
	if err != nil || len(sa) != 1 {
		t.Fatal(sa, err)
	}
	body = get(h, "/orgs/acme/tokens?owner_id="+sa[0].ID+"&q=tok-0", cookie).Body.String()
	if got := names(body, "tok"); strings.Join(got, " ") != "tok-00003 tok-00123" {
		t.Fatalf("tokens of bot-0003 starting tok-0: %v", got)
	}
	if !strings.Contains(body, `name="owner_id" value="`+sa[0].ID+`"`) || !strings.Contains(link(t, body, "Clear"), "owner_id="+sa[0].ID) {
		t.Fatal("the search form or its Clear link drops the owner filter")
	}
	// Members and the audit log page and search too.
	if body := get(h, "/orgs/acme/members?q=ADMIN@", cookie).Body.String(); !strings.Contains(body, "<td>admin@example.com</td>") {
		t.Fatal("member search by email")
	}
	body = get(h, "/orgs/acme/audit?q=fuzz", cookie).Body.String()
	if !strings.Contains(body, "fuzz: <a href=") || !strings.Contains(body, "target_id=") {
		t.Fatalf("audit search: %s", body)
	}

	// Bad input is a 4xx, never a 500.
	for _, path := range []string{
		"/orgs/acme/service-accounts?q=" + strings.Repeat("a", 101),
		"/orgs/acme/tokens?cursor=forged",
		"/orgs/acme/members?cursor=" + tollgate.EncodeNameCursor("a", "usr_1"),
		"/orgs/acme/service-accounts?q=a&cursor=" + tollgate.EncodeCursor(time.Unix(0, 0), "sa_1"),
		"/orgs/acme/audit?cursor=%00",
		"/orgs/acme/tokens/new?owner_q=%ff",
	} {
		if rec := get(h, path, cookie); rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}

func TestConsoleReassignPicker(t *testing.T) {
	env, cookie, sas := listEnv(t)
	h := env.Handler
	toks, _, err := env.App.ListAPITokens(t.Context(), env.Admin, "acme", tollgate.APITokenFilter{Query: "tok-00007"}, tollgate.Page{Limit: 1})
	if err != nil || len(toks) != 1 {
		t.Fatal(toks, err)
	}
	tok := toks[0]
	picker := "/orgs/acme/tokens/" + tok.ID + "/reassign"

	// The Tokens page links to the picker and carries no account list.
	body := get(h, "/orgs/acme/tokens", cookie).Body.String()
	if !strings.Contains(body, `href="`+picker+`"`) || strings.Contains(body, "<option") {
		t.Fatal("the Tokens page should link to the picker and hold no <option>")
	}
	// The picker pages and searches; each account has its own form.
	rec := get(h, picker+"?q=bot-011", cookie)
	body = rec.Body.String()
	if rec.Code != 200 || strings.Count(body, `name="service_account_id"`) != 10 || link(t, body, "Next page →") != "" {
		t.Fatalf("picker search: %d, %d forms", rec.Code, strings.Count(body, `name="service_account_id"`))
	}
	rec = get(h, picker, cookie)
	body = rec.Body.String()
	if next := link(t, body, "Next page →"); !strings.HasPrefix(next, picker+"?cursor=") {
		t.Fatalf("picker next link %q", next)
	}
	// The current owner (bot-0007) is marked, not offered.
	if !strings.Contains(body, "current owner") {
		t.Fatal("the picker does not mark the current owner")
	}

	target := sas[42]
	// CSRF: a cross-site POST is refused and changes nothing.
	if rec := form(h, picker, url.Values{"service_account_id": {target.ID}}, cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site reassign: %d", rec.Code)
	}
	// A bad choice shows on the picker, as a 4xx.
	rec = form(h, picker, url.Values{"service_account_id": {"sa_missing"}}, cookie)
	if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), "Reassign "+tok.Name) {
		t.Fatalf("reassign to a missing account: %d", rec.Code)
	}
	rec = form(h, picker, url.Values{"service_account_id": {target.ID}}, cookie)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/orgs/acme/tokens?notice=reassigned&token="+tok.ID) {
		t.Fatalf("reassign: %d %v", rec.Code, rec.Header())
	}
	got, err := env.App.GetAPIToken(t.Context(), env.Admin, "acme", tok.ID)
	if err != nil || got.OwnerID != target.ID {
		t.Fatalf("after reassigning: %+v, %v", got, err)
	}
	evs, _, err := env.App.ListAuditEvents(t.Context(), env.Admin, "acme", tollgate.AuditFilter{Action: tollgate.ActionTokenReassigned, TargetID: tok.ID}, tollgate.Page{Limit: 5})
	if err != nil || len(evs) != 1 {
		t.Fatalf("audit of the reassignment: %v, %v", evs, err)
	}

	// Another org's token, or an org one is not in, is not found.
	if _, err := env.App.CreateOrg(t.Context(), env.Admin, "beta", "Beta"); err != nil {
		t.Fatal(err)
	}
	if rec := get(h, "/orgs/beta/tokens/"+tok.ID+"/reassign", cookie); rec.Code != http.StatusNotFound {
		t.Fatalf("another org's token: %d", rec.Code)
	}

	// An admin sees the lists but cannot reassign; a viewer sees no tokens.
	for role, want := range map[tollgate.Role]struct{ list, picker int }{
		tollgate.RoleAdmin:  {200, 403},
		tollgate.RoleViewer: {403, 403},
	} {
		c := memberSession(t, h, cookie, "acme", "an-"+string(role)+"@example.com", string(role))
		body := get(h, "/orgs/acme/tokens", c)
		if body.Code != want.list || strings.Contains(body.Body.String(), "/reassign") {
			t.Errorf("%s: Tokens page %d", role, body.Code)
		}
		if rec := get(h, picker, c); rec.Code != want.picker {
			t.Errorf("%s: picker %d", role, rec.Code)
		}
		if rec := form(h, picker, url.Values{"service_account_id": {sas[1].ID}}, c); rec.Code != want.picker {
			t.Errorf("%s: reassign %d", role, rec.Code)
		}
		if rec := get(h, "/orgs/acme/service-accounts?q=bot", c); rec.Code != want.list {
			t.Errorf("%s: accounts %d", role, rec.Code)
		}
		if rec := get(h, "/orgs/other/tokens", c); rec.Code != http.StatusNotFound {
			t.Errorf("%s: an org they are not in: %d", role, rec.Code)
		}
	}
}

func TestConsoleAddTokenOwnerPicker(t *testing.T) {
	env, cookie, sas := listEnv(t)
	h := env.Handler
	body := get(h, "/orgs/acme/tokens/new", cookie).Body.String()
	if n := strings.Count(body, "<option value=\"sa_"); n != 50 || !strings.Contains(body, "search to narrow") {
		t.Fatalf("owner picker: %d accounts offered", n)
	}
	body = get(h, "/orgs/acme/tokens/new?owner_q=bot-0119", cookie).Body.String()
	if n := strings.Count(body, "<option value=\"sa_"); n != 1 || !strings.Contains(body, sas[119].ID) {
		t.Fatalf("owner search: %d accounts offered", n)
	}
	// A rule broken keeps the chosen owner, even beyond the first 50.
	rec := form(h, "/orgs/acme/tokens", url.Values{"name": {""}, "service_account_id": {sas[100].ID}, "kind": {"private"}}, cookie)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), `<option value="`+sas[100].ID+`" selected>`) {
		t.Fatalf("re-rendered form: %d", rec.Code)
	}
}
