package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsolePolicy sets the org's policy (P1) on the Settings page in
// Chromium: a public token made before is listed with a link to it, a new
// public token is refused with the policy's sentence, and clearing the
// box lifts it. axe checks the page.
func TestConsolePolicy(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	api := loggedIn(t, ts)
	sa := newSA(t, api, "acme", "web-bot", 300, "member")["id"].(string)
	newToken(t, api, "acme", sa, "public", "https://app.example.com")
	browserSignIn(t, ctx, ts)

	step(t, ctx, "open Settings", chromedp.Navigate(ts.URL+"/orgs/acme/settings"), chromedp.WaitVisible(css("#violations-title")))
	if got := text(t, ctx, "section[aria-labelledby=violations-title]"); !strings.Contains(got, "Every credential follows the policy.") {
		t.Fatalf("violations before a policy: %q", got)
	}
	step(t, ctx, "forbid public tokens", chromedp.Click(css("#org-public")), chromedp.SetValue(css("#org-max-ttl"), "600"),
		chromedp.Click(css("form[action$='/settings'] button[type=submit]")), chromedp.WaitVisible(css(".notice")))
	got := text(t, ctx, "ul.violations")
	if !strings.Contains(got, "1 API token is public, which is no longer allowed.") || !strings.Contains(got, "token") {
		t.Fatalf("violations listed: %q", got)
	}
	checkA11y(t, ctx, "settings with violations")
	pics.take(ctx, "policy")
	step(t, ctx, "follow the link", chromedp.Click(css("ul.violations a")), chromedp.WaitVisible(css("table")))
	waitURL(t, ctx, "/tokens?q=token")

	step(t, ctx, "try a public token", chromedp.Navigate(ts.URL+"/orgs/acme/tokens/new?service_account_id="+sa), chromedp.WaitVisible(css("form")))
	step(t, ctx, "submit it", chromedp.SetValue(css("#tok-name"), "web"), chromedp.Click(css("input[name=kind][value=public]")),
		chromedp.SetValue(css("#tok-domains"), "https://app.example.com"), chromedp.Click(css("form[action$='/tokens'] button[type=submit]")),
		chromedp.WaitVisible(css("p.error")))
	if got := text(t, ctx, "p.error"); !strings.Contains(got, "This organization does not allow public tokens") {
		t.Fatalf("refusal: %q", got)
	}
	pics.take(ctx, "public-refused")

	step(t, ctx, "allow them again", chromedp.Navigate(ts.URL+"/orgs/acme/settings"), chromedp.WaitVisible(css("#org-public")),
		chromedp.Click(css("#org-public")), chromedp.Click(css("form[action$='/settings'] button[type=submit]")), chromedp.WaitVisible(css(".notice")))
	org := api.do("GET", "/api/v1/orgs/acme", nil).want(t, 200).JSON()["settings"].(map[string]any)
	if org["public_tokens_allowed"] != true || org["max_token_ttl_seconds"] != 600.0 {
		t.Fatalf("settings after the console: %v", org)
	}
}
