package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleWebhooks adds a webhook in Chromium from Settings, copies the
// secret shown once, sees a delivery verified by the standardwebhooks
// package appear with its attempts, and deletes the webhook; axe checks
// each page.
func TestConsoleWebhooks(t *testing.T) {
	ctx := browser(t)
	rc := startNodeReceiver(t)
	ts := startServer(t, databases(t)["sqlite"](t), webhookEnv(rc, nil))
	pics := newShots(t)
	api := loggedIn(t, ts)
	browserSignIn(t, ctx, ts)

	step(t, ctx, "open Webhooks from Settings", chromedp.Navigate(ts.URL+"/orgs/acme/settings"), chromedp.WaitVisible(css("a[href$='/webhooks']")),
		chromedp.Click(css("a[href$='/webhooks']")), chromedp.WaitVisible(css("#add-hook-title")))
	if got := text(t, ctx, "table tbody"); !strings.Contains(got, "No webhooks yet.") {
		t.Fatalf("webhooks of a new org: %q", got)
	}
	pics.take(ctx, "webhooks")
	step(t, ctx, "refuse http", chromedp.SetValue(css("#hook-url"), "http://hooks.example.com/x"),
		chromedp.Click(css("form[action$='/webhooks'] button[type=submit]")), chromedp.WaitVisible(css("#hook-url-error")))
	if got := text(t, ctx, "#hook-url-error"); !strings.Contains(got, "must use https") {
		t.Fatalf("the http URL's error: %q", got)
	}
	step(t, ctx, "add one for two events", chromedp.SetValue(css("#hook-url"), rc.URL+"/hooks"),
		chromedp.Click(css("input[name=scope][value=some]")), chromedp.Click(css("input[name=event][value='service_account.created']")),
		chromedp.Click(css("input[name=event][value='token.expiring']")),
		chromedp.Click(css("form[action$='/webhooks'] button[type=submit]")), chromedp.WaitVisible(css("#hook-secret")))
	secret, err := chromedp.Run(ctx, chromedp.Value(css("#hook-secret")))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret: %q %v", secret, err)
	}
	pics.take(ctx, "webhook-created")
	rc.control(t, secret, 1)
	newSA(t, api, "acme", "hooked", 300, "viewer")
	rc.waitVerified(t, "service_account.created", 1, 10*time.Second)

	step(t, ctx, "see the delivery", chromedp.Click(css("a[href*='/webhooks/wh_']")), chromedp.WaitVisible(css("#deliveries-title")))
	row := text(t, ctx, "#deliveries tbody tr")
	if !strings.Contains(row, "service_account.created") || !strings.Contains(row, "delivered") || !strings.Contains(row, "204 No Content") {
		t.Fatalf("the delivery row: %q", row)
	}
	step(t, ctx, "open its attempts", chromedp.Click(css("#deliveries tbody tr details summary")), chromedp.WaitVisible(css("ol.attempts")))
	if got := text(t, ctx, "ol.attempts"); strings.Count(got, "\n")+1 != 2 || !strings.Contains(got, "503 Service Unavailable") {
		t.Fatalf("attempts: %q", got)
	}
	pics.take(ctx, "webhook-deliveries")
	step(t, ctx, "delete it", chromedp.Click(css("details.confirm summary")), chromedp.Click(css("form[action$='/delete'] button")),
		chromedp.WaitVisible(css(".notice")))
	if got := text(t, ctx, "table tbody"); !strings.Contains(got, "No webhooks yet.") {
		t.Fatalf("after delete: %q", got)
	}
}
