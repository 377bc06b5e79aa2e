package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/store/sqlite"
)

// maxPageBytes bounds a console page's HTML at scale (issue 12, item 4):
// before paging, the Tokens page of 200 rows × 200 accounts was 2.7 MB.
const maxPageBytes = 300 << 10

// TestConsoleAtScale seeds acme with 1,000 service accounts and 5,000
// tokens (and 2,000 audit events) through LoadBulk, then walks the console in Chromium: each list,
// the next page through its cursor link, a search, and a reassignment
// through the on-demand picker. Every page's HTML, the document's bytes
// as the browser received them (the navigation's decoded body size), is
// under maxPageBytes, and passes axe.
func TestConsoleAtScale(t *testing.T) {
	ctx := browser(t)
	db := databases(t)["sqlite"](t)
	ts := startServer(t, db, nil)
	s, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	org, err := s.GetOrgBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	sas := stacktest.Seed(t, s, org, 1000, 5000, at)
	// And 2,000 audit events about them, for the audit log's pages.
	events := &tollgate.Bulk{}
	for i := range 2000 {
		sa := sas[i%len(sas)]
		events.AuditEvents = append(events.AuditEvents, *tollgate.NewAuditEvent(at.Add(time.Duration(i)*time.Second), org.ID,
			tollgate.Principal{Type: tollgate.PrincipalUser, ID: "usr_seed", Name: "seed@example.com"}, tollgate.ActionServiceAccountUpdated,
			tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: sa.ID, Name: sa.Name}, "192.0.2.1", "seed", map[string]any{}))
	}
	if err := s.LoadBulk(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	s.Close()
	pics := newShots(t)
	browserSignIn(t, ctx, ts)

	// page checks the page the browser is on: its size and accessibility.
	page := func(name string) {
		t.Helper()
		size, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].decodedBodySize`))
		if err != nil {
			t.Fatalf("%s: reading the page's size: %v", name, err)
		}
		t.Logf("%-22s %7d bytes", name, size)
		if size <= 0 || size > maxPageBytes {
			t.Errorf("%s: %d bytes of HTML, want at most %d", name, size, maxPageBytes)
		}
		pics.take(ctx, name)
	}
	rows := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, l := range []struct{ name, path, row string }{
		{"members", "/orgs/acme/members", "main tbody tr"},
		{"service-accounts", "/orgs/acme/service-accounts", "main tbody tr"},
		{"tokens", "/orgs/acme/tokens", "tr[data-menu]"},
		{"audit", "/orgs/acme/audit", "main tbody tr"},
	} {
		step(t, ctx, "open "+l.name, chromedp.Navigate(ts.URL+l.path), chromedp.WaitVisible(css("#search-q")))
		page(l.name)
		if l.name != "members" {
			if n := rows(l.row); n != 50 {
				t.Fatalf("%s: %d rows, want a page of 50", l.name, n)
			}
			first := text(t, ctx, "main tbody tr td")
			step(t, ctx, "next page of "+l.name, chromedp.Click(css("a[rel=next]")), chromedp.WaitVisible(css("nav.pager a:not([rel])")))
			waitURL(t, ctx, "cursor=")
			page(l.name + "-page-2")
			if got := text(t, ctx, "main tbody tr td"); got == first || rows(l.row) != 50 {
				t.Fatalf("%s: page 2 starts with %q, like page 1", l.name, got)
			}
		}
	}

	// Search the tokens: the prefix, in either case, in name order.
	step(t, ctx, "search tokens", chromedp.Navigate(ts.URL+"/orgs/acme/tokens"), chromedp.WaitVisible(css("#search-q")),
		chromedp.SendKeys(css("#search-q"), "TOK-0049"), chromedp.Click(css("form.search button")))
	waitURL(t, ctx, "q=TOK-0049")
	page("tokens-search")
	if n := rows("tr[data-menu]"); n != 10 {
		t.Fatalf("tok-0049*: %d tokens, want 10 (tok-00490 … tok-00499)", n)
	}
	if got := text(t, ctx, "tr[data-menu] td"); got != "tok-00490" {
		t.Fatalf("first match %q", got)
	}

	// Reassign tok-00490 through its menu's picker: search, choose.
	step(t, ctx, "open the picker", chromedp.Click(css("tr[data-menu] details.menu summary")),
		chromedp.Click(css("details.menu[open] a[href$='/reassign']")), chromedp.WaitVisible(css("#search-q")))
	page("reassign-picker")
	if n := rows("main tbody form"); n < 49 || n > 50 {
		t.Fatalf("the picker offers %d accounts on its first page", n)
	}
	target := sas[999]
	step(t, ctx, "search the picker", chromedp.SendKeys(css("#search-q"), target.Name), chromedp.Click(css("form.search button")))
	waitURL(t, ctx, "q="+target.Name)
	page("reassign-search")
	step(t, ctx, "reassign", chromedp.Click(css("form:has(input[value='"+target.ID+"']) button")), chromedp.WaitVisible(css(".notice")))
	page("reassigned")
	step(t, ctx, "find it", chromedp.Navigate(ts.URL+"/orgs/acme/tokens?q=tok-00490"), chromedp.WaitVisible(css("tr[data-menu]")))
	if got := text(t, ctx, "tr[data-menu]"); !strings.Contains(got, target.Name) {
		t.Fatalf("after reassigning: %q", got)
	}

	// The other pickers and searches stay small too.
	step(t, ctx, "add token", chromedp.Navigate(ts.URL+"/orgs/acme/tokens/new"), chromedp.WaitVisible(css("#tok-owner")))
	page("add-token")
	step(t, ctx, "search accounts", chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts?q=bot-09"), chromedp.WaitVisible(css("#search-q")))
	page("service-accounts-search")
	if n := rows("main tbody tr"); n != 50 {
		t.Fatalf("bot-09*: %d on the first page", n)
	}
	step(t, ctx, "audit search", chromedp.Navigate(ts.URL+"/orgs/acme/audit?q=bot-0999"), chromedp.WaitVisible(css("ul.matches")))
	page("audit-search")
}
