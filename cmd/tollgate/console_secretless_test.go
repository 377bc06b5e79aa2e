package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tollgate/tollgate/internal/josetest"
)

// TestConsoleSecretless walks K4 in Chromium: on a service account's page
// a public JWK is registered and listed with its kid and thumbprint, a
// private JWK is refused (and not echoed back), the GitHub Actions
// template fills the federated credential form server-side, a wildcard
// subject is refused next to its field, DPoP is required (and the API
// says so), the key is deleted; the secret page points to these sections;
// and an admin sees all of it read-only.
func TestConsoleSecretless(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	api := loggedIn(t, ts)
	sa := newSA(t, api, "acme", "ci-bot", 300, "member")["id"].(string)
	browserSignIn(t, ctx, ts)

	step(t, ctx, "open the account", chromedp.Click(css("nav.tabs a[href$='/service-accounts']")),
		chromedp.WaitVisible(css("a[href$='/service-accounts/"+sa+"']")), chromedp.Click(css("a[href$='/service-accounts/"+sa+"']")),
		chromedp.WaitVisible(css("#keys-title")))
	if got := text(t, ctx, "#keys tbody"); !strings.Contains(got, "No keys yet") {
		t.Fatalf("keys of a new account: %q", got)
	}
	example := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Value(css("#"+id)))
		if err != nil {
			t.Fatalf("reading #%s: %v", id, err)
		}
		return v
	}
	// The examples carry this account's client ID and the real endpoint.
	endpoint := ts.URL + "/oauth2/token"
	if ex := example("key-example"); !strings.Contains(ex, "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer") ||
		!strings.Contains(ex, "iss and sub = "+sa) || !strings.Contains(ex, "aud = "+endpoint) || !strings.Contains(ex, "grant_type=client_credentials") {
		t.Errorf("private_key_jwt example:\n%s", ex)
	}
	if ex := example("exchange-example"); !strings.Contains(ex, "grant_type=urn:ietf:params:oauth:grant-type:token-exchange") ||
		!strings.Contains(ex, "subject_token=$OIDC_TOKEN") || !strings.Contains(ex, "client_id="+sa) || !strings.Contains(ex, endpoint) {
		t.Errorf("token exchange example:\n%s", ex)
	}
	pics.take(ctx, "account")

	// A public JWK is registered and listed with its kid and thumbprint.
	key := josetest.NewKey("ES256", "", 0)
	step(t, ctx, "add a key", chromedp.SetValue(css("#key-public"), string(key.PublicJWK())),
		chromedp.Click(css("form[action$='/keys#keys'] button[type=submit]")), chromedp.WaitVisible(css("#keys .notice")))
	row := text(t, ctx, "#keys tbody tr")
	if strings.Count(row, key.Thumbprint()) != 2 || !strings.Contains(row, "ES256") || !strings.Contains(row, "never") {
		t.Fatalf("the key's row (its kid is its thumbprint %s): %q", key.Thumbprint(), row)
	}
	pics.take(ctx, "key-added")

	// A private JWK is refused, and not sent back into the page.
	priv := josetest.NewKey("ES256", "", 0)
	step(t, ctx, "paste a private key", chromedp.SetValue(css("#key-public"), string(priv.PrivateJWK())),
		chromedp.Click(css("form[action$='/keys#keys'] button[type=submit]")), chromedp.WaitVisible(css("#key-public-error")))
	if got := text(t, ctx, "#key-public-error"); !strings.Contains(got, "holds a private key") {
		t.Fatalf("private key refusal: %q", got)
	}
	if v := example("key-public"); v != "" {
		t.Fatalf("the private key came back into the form: %q", v)
	}
	pics.take(ctx, "private-key-refused")

	// The GitHub Actions template fills the form; a credential is added.
	step(t, ctx, "GitHub Actions template", chromedp.Click(css("a[href*='template=github']")))
	waitURL(t, ctx, "template=github")
	if got := example("fed-issuer"); got != "https://token.actions.githubusercontent.com" {
		t.Fatalf("issuer from the template: %q", got)
	}
	for i, name := range []string{"repository", "ref", "environment"} {
		if got := example("fed-claim-name-" + string(rune('0'+i))); got != name {
			t.Fatalf("claim %d from the template: %q", i, got)
		}
	}
	if ex := example("source-example"); !strings.Contains(ex, `curl -sH "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=`+ts.URL+`" | jq -r .value`) {
		t.Errorf("GitHub OIDC token example:\n%s", ex)
	}
	pics.take(ctx, "github-template")
	fill := func(name, subject string) {
		t.Helper()
		step(t, ctx, "fill the credential", chromedp.SetValue(css("#fed-name"), name), chromedp.SendKeys(css("#fed-subject"), subject),
			chromedp.SendKeys(css("#fed-claim-value-0"), "octo-org/octo-repo"), chromedp.SendKeys(css("#fed-claim-value-1"), "refs/heads/main"),
			chromedp.SendKeys(css("#fed-claim-value-2"), "production"),
			chromedp.Click(css("form[action$='/federated-credentials#federated'] button[type=submit]")))
	}
	fill("deploy-from-main", "")
	step(t, ctx, "added", chromedp.WaitVisible(css("#federated .notice")))
	row = text(t, ctx, "#federated tbody tr")
	for _, want := range []string{"deploy-from-main", "https://token.actions.githubusercontent.com", "any",
		"repository = octo-org/octo-repo", "ref = refs/heads/main", "environment = production", ts.URL} {
		if !strings.Contains(row, want) {
			t.Errorf("the credential's row lacks %q: %q", want, row)
		}
	}
	pics.take(ctx, "federated-added")

	// A wildcard subject is refused next to the field, the form kept.
	step(t, ctx, "template again", chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts/"+sa+"?template=github#federated"),
		chromedp.WaitVisible(css("#fed-subject")))
	fill("any-repo", "repo:octo/*")
	step(t, ctx, "wildcard refused", chromedp.WaitVisible(css("#fed-subject-error")))
	if got := text(t, ctx, "#fed-subject-error"); !strings.Contains(got, "wildcards are not supported") {
		t.Fatalf("wildcard subject: %q", got)
	}
	if got := example("fed-subject"); got != "repo:octo/*" {
		t.Fatalf("the subject typed is not kept: %q", got)
	}
	if got := example("fed-claim-value-0"); got != "octo-org/octo-repo" {
		t.Fatalf("the claims typed are not kept: %q", got)
	}
	pics.take(ctx, "wildcard-refused")

	// Require DPoP: saved, shown, and true in the admin API.
	step(t, ctx, "require DPoP", chromedp.Click(css("#require-dpop")),
		chromedp.Click(css("form[action$='/dpop#dpop'] button")), chromedp.WaitVisible(css("#dpop .notice")))
	if on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("require-dpop").checked`)); err != nil || !on {
		t.Fatalf("the box after saving: %v, %v", on, err)
	}
	if got := api.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa, nil).want(t, 200).JSON()["require_dpop"]; got != true {
		t.Fatalf("require_dpop through the API: %v", got)
	}
	if got := text(t, ctx, "dl.details"); !strings.Contains(got, "DPoP") || !strings.Contains(got, "required") {
		t.Errorf("details: %q", got)
	}
	pics.take(ctx, "dpop-required")

	// Delete the key: gone from the table and from the API.
	step(t, ctx, "delete the key", chromedp.Click(css("#keys details.confirm summary")),
		chromedp.WaitVisible(css("#keys form[action$='/delete#keys'] button")),
		chromedp.Click(css("#keys form[action$='/delete#keys'] button")), chromedp.WaitVisible(css("#keys .notice")))
	if got := text(t, ctx, "#keys tbody"); strings.Contains(got, key.Thumbprint()) || !strings.Contains(got, "No keys yet") {
		t.Fatalf("keys after deleting: %q", got)
	}
	if items := api.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", nil).want(t, 200).JSON()["items"].([]any); len(items) != 0 {
		t.Fatalf("keys through the API after deleting: %v", items)
	}
	pics.take(ctx, "key-deleted")

	// The page that shows a new secret once points to the secretless ways.
	step(t, ctx, "create another account", chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts/new"), chromedp.WaitVisible(css("#sa-name")),
		chromedp.SendKeys(css("#sa-name"), "other-bot"), chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#client-secret")))
	other, _ := chromedp.Run(ctx, chromedp.Value(css("#client-id")))
	if got := text(t, ctx, ".secretless-hint"); !strings.Contains(got, "private_key_jwt") || !strings.Contains(got, "need no secret at all") {
		t.Fatalf("secret page hint: %q", got)
	}
	for _, anchor := range []string{"#keys", "#federated"} {
		if _, err := chromedp.Run(ctx, chromedp.Nodes(css(".secretless-hint a[href='/orgs/acme/service-accounts/"+other+anchor+"']"), chromedp.AtLeast(1))); err != nil {
			t.Errorf("no link to %s: %v", anchor, err)
		}
	}
	pics.take(ctx, "secret-page")

	// An admin sees the keys, the credentials and the DPoP state, read-only.
	addKey(t, api, sa, string(key.PublicJWK()))
	invite(t, ts, api, "acme", "ada@example.com", "admin")
	step(t, ctx, "sign out", chromedp.Click(css("form.signout button")), chromedp.WaitVisible(css("#email")))
	step(t, ctx, "sign in as admin", chromedp.SendKeys(css("#email"), "ada@example.com"), chromedp.SendKeys(css("#password"), "password-of-ada@example.com"),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("nav.tabs")),
		chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts/"+sa), chromedp.WaitVisible(css("#keys-title")))
	if got := text(t, ctx, "#keys tbody"); !strings.Contains(got, key.Thumbprint()) {
		t.Fatalf("the admin does not see the key: %q", got)
	}
	if got := text(t, ctx, "#federated tbody"); !strings.Contains(got, "deploy-from-main") {
		t.Fatalf("the admin does not see the credential: %q", got)
	}
	if got := text(t, ctx, "#dpop-state"); got != "on" {
		t.Fatalf("DPoP state for the admin: %q", got)
	}
	for _, sel := range []string{"#key-public", "#fed-name", "#require-dpop", "a[href*='template=']", "details.confirm", "form[action*='/keys']", "form[action*='/federated-credentials']", "form[action$='/dpop#dpop']"} {
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("`+sel+`").length`)); err != nil || n != 0 {
			t.Errorf("the admin sees %s (%d, %v)", sel, n, err)
		}
	}
	pics.take(ctx, "admin-view")
}
