package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsolePolish checks in Chromium what a new user tripped on: the
// Domains box shows only for public tokens and checks each line as it is
// typed, in the server's own words; "Private:" has no stray space; an
// account's page names its creator by email; a failed sign-in is
// recorded with an anonymous actor and the email tried.
func TestConsolePolish(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	api := loggedIn(t, ts)
	sa := newSA(t, api, "acme", "shop", 300, "member")["id"].(string)
	newClient(t, ts.URL).do("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "not-the-password"}).want(t, 401)
	browserSignIn(t, ctx, ts)
	pics := newShots(t)

	step(t, ctx, "open the token form", chromedp.Navigate(ts.URL+"/orgs/acme/tokens/new"), chromedp.WaitVisible(css("#tok-name")))
	if got := text(t, ctx, "label:has(input[value=private])"); !strings.HasPrefix(got, "Private: authenticates") {
		t.Errorf("the private choice reads %q", got)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("tok-domains-row").hidden`)); !hidden {
		t.Errorf("the Domains box shows for a private token")
	}
	step(t, ctx, "choose public", chromedp.Click(css("input[name=kind][value=public]")), chromedp.WaitVisible(css("#tok-domains")))
	// The message under the box as each value is typed is the server's.
	for _, domains := range []string{"https://*.example.com", "shop.example.com", "https://shop.example.com/app", "https://u:p@shop.example.com",
		"https://shop.example.com:99999", "ftp://shop.example.com", "https://ok.example.com\nhttps://shop.example.com?x=1"} {
		step(t, ctx, "type "+domains, chromedp.SetValue(css("#tok-domains"), " "), chromedp.SendKeys(css("#tok-domains"), domains),
			chromedp.WaitVisible(css("#tok-domains-error")))
		live := text(t, ctx, "#tok-domains-error")
		server := api.do("POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "t", "service_account_id": sa, "kind": "public",
			"domains": strings.Split(domains, "\n")}).want(t, 422).JSON()["detail"]
		if live != server {
			t.Errorf("%q: the console says %q as you type, the server %q", domains, live, server)
		}
		if strings.Contains(live, "domains[") {
			t.Errorf("%q: an API path in the message: %q", domains, live)
		}
	}
	pics.take(ctx, "live-domain-check")
	step(t, ctx, "fix it", chromedp.SetValue(css("#tok-domains"), " "), chromedp.SendKeys(css("#tok-domains"), "https://shop.example.com"))
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("tok-domains-error").hidden`)); !hidden {
		t.Errorf("a good domain still shows an error: %q", text(t, ctx, "#tok-domains-error"))
	}

	step(t, ctx, "create it", chromedp.SetValue(css("#tok-name"), "storefront"), chromedp.Click(css("form[action$='/tokens'] button[type=submit]")),
		chromedp.WaitVisible(css("#new-token")))
	waitURL(t, ctx, "/orgs/acme/created")
	// Reloading the page that showed the token creates nothing and shows nothing.
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(css("main")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "shown once") || strings.Contains(got, "tgq_") {
		t.Errorf("after a reload: %q", got)
	}
	if n := len(api.do("GET", "/api/v1/orgs/acme/tokens", nil).want(t, 200).JSON()["items"].([]any)); n != 1 {
		t.Errorf("%d tokens after one create and a reload", n)
	}
	pics.take(ctx, "created-reloaded")

	// The reassign notice names the token, the new owner and the lowered role.
	viewer := newSA(t, api, "acme", "reader", 300, "viewer")["id"].(string)
	step(t, ctx, "reassign it", chromedp.Navigate(ts.URL+"/orgs/acme/tokens"), chromedp.WaitVisible(css("tr[data-menu] summary")),
		chromedp.Click(css("tr[data-menu] summary")), chromedp.Click(css("a[href$='/reassign']")), chromedp.WaitVisible(css("form[action$='/reassign']")))
	step(t, ctx, "choose the viewer", chromedp.Click(css("form:has(input[value='"+viewer+"']) button[type=submit]")), chromedp.WaitVisible(css(".notice")))
	if got := text(t, ctx, ".notice"); got != "storefront was reassigned to reader." {
		t.Errorf("the reassign notice: %q", got)
	}

	// The audit log filters by email and name, and each row opens its details.
	step(t, ctx, "filter the audit log", chromedp.Navigate(ts.URL+"/orgs/acme/audit"), chromedp.WaitVisible(css("#f-actor")),
		chromedp.SendKeys(css("#f-actor"), "admin@example.com"), chromedp.SendKeys(css("#f-target"), "storefront"),
		chromedp.Click(css("form.filters button[type=submit]")), chromedp.WaitVisible(css(".event-details summary")))
	step(t, ctx, "open the details", chromedp.Click(css("tbody tr:first-child .event-details summary")), chromedp.WaitVisible(css("tbody tr:first-child .event-details ul")))
	if got := text(t, ctx, "tbody tr:first-child"); !strings.Contains(got, "token.reassigned") || !strings.Contains(got, "to: reader (service account)") {
		t.Errorf("the filtered audit log: %q", got)
	}
	pics.take(ctx, "audit-details")

	step(t, ctx, "open the account", chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts/"+sa), chromedp.WaitVisible(css("h1")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "by admin@example.com") || strings.Contains(got, "by usr_") {
		t.Errorf("created by: %q", got)
	}
	ev := api.do("GET", "/api/v1/orgs/acme/audit-events?action=session.failed", nil).want(t, 200).JSON()["items"].([]any)[0].(map[string]any)
	if a := ev["actor"].(map[string]any); a["type"] != "anonymous" || a["id"] != "" || ev["details"].(map[string]any)["email"] != "admin@example.com" {
		t.Errorf("a failed sign-in's event: %v", ev)
	}
}
