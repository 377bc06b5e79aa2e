package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/testenv"
)

// browser starts headless Chromium (TOLLGATE_TEST_CHROMIUM, required in CI)
// at 1280×800 and returns a chromedp context for one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := testenv.Require(t, "TOLLGATE_TEST_CHROMIUM", "a Chromium binary (Debian: /usr/bin/chromium)")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// shots saves numbered screenshots into TOLLGATE_SCREENSHOTS when set.
type shots struct {
	t   *testing.T
	dir string
	n   int
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("TOLLGATE_SCREENSHOTS")
	if dir != "" {
		dir = filepath.Join(dir, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &shots{t: t, dir: dir}
}

// axeSource is axe-core, vendored from npm (testdata/axe).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the page and fails the test on any serious
// or critical violation.
func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(actx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("injecting axe-core on %s: %v", page, err)
	}
	vs, err := chromedp.Run(actx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core on %s: %v", page, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("accessibility (%s) on %s: %s: %s at %v", v.Impact, page, v.ID, v.Help, v.Nodes)
		}
	}
}

// take checks the page's accessibility and saves a screenshot of it.
func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	checkA11y(s.t, ctx, name)
	s.save(ctx, name)
}

// save saves a screenshot into TOLLGATE_SCREENSHOTS, when it is set.
func (s *shots) save(ctx context.Context, name string) {
	s.t.Helper()
	if s.dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatal(err)
	}
	s.n++
	if err := os.WriteFile(filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name)), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// step runs browser actions with a timeout, failing the test with the
// page's text on error.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage text: %.600s", what, err, body)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// browserSignIn signs the bootstrap admin in through the console and waits
// for the Members page.
func browserSignIn(t *testing.T, ctx context.Context, ts *testServer) {
	t.Helper()
	step(t, ctx, "sign in", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "admin@example.com"), chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("nav.tabs")))
}

// waitURL waits until the page's URL contains part and the page is loaded,
// for steps whose next page has the same elements as the last one.
func waitURL(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, part) {
			if state, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.readyState")); err == nil && state == "complete" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not reach a URL with %q (at %s)", part, loc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleMembers clicks through the console in Chromium: sign in, be
// sent back to the page asked for after signing out, invite a member, accept
// the invitation in the browser, change the member's role, remove them.
func TestConsoleMembers(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	// signIn fills the sign-in form and waits for an element of the page
	// that should follow (not one the sign-in page has itself).
	signIn := func(email, password, then string) {
		t.Helper()
		step(t, ctx, "sign in", chromedp.WaitVisible(css("#email")), chromedp.SendKeys(css("#email"), email),
			chromedp.SendKeys(css("#password"), password), chromedp.Click(css("main button[type=submit]")),
			chromedp.WaitVisible(css(then)))
	}
	const membersPage = "nav.tabs"

	step(t, ctx, "open the console", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(css("#email")))
	pics.take(ctx, "sign-in")
	signIn("admin@example.com", "wrong password here", ".error")
	if got := text(t, ctx, ".error"); !strings.Contains(got, "email or password is wrong") {
		t.Fatalf("wrong password: %q", got)
	}
	pics.take(ctx, "sign-in-error")
	// The form comes back with the email filled in, never the password.
	if v, _ := chromedp.Run(ctx, chromedp.Value(css("#email"))); v != "admin@example.com" {
		t.Fatalf("email after an error: %q", v)
	}
	step(t, ctx, "sign in again", chromedp.SendKeys(css("#password"), adminPassword), chromedp.Click(css("main button[type=submit]")),
		chromedp.WaitVisible(css(membersPage)))
	if h := text(t, ctx, "h1"); h != "Members and Permissions" {
		t.Fatalf("after sign-in: %q", h)
	}
	pics.take(ctx, "members")

	// Invite a member; the accept link is shown once on the page.
	step(t, ctx, "invite", chromedp.SendKeys(css("#invite-email"), "bob@example.com"), chromedp.SetValue(css("#invite-role"), "admin"),
		chromedp.Click(css("form[action$='/members/invite'] button")), chromedp.WaitVisible(css("#accept-url")))
	link, err := chromedp.Run(ctx, chromedp.Value(css("#accept-url")))
	if err != nil || !strings.HasPrefix(link, ts.URL+"/invitations/accept?token=") {
		t.Fatalf("accept link %q, %v", link, err)
	}
	pics.take(ctx, "invited")

	// Sign out; a page asked for while signed out comes back after sign-in.
	step(t, ctx, "sign out", chromedp.Click(css("form.signout button")), chromedp.WaitVisible(css("#email")))
	step(t, ctx, "ask for a page", chromedp.Navigate(ts.URL+"/orgs/acme/members"), chromedp.WaitVisible(css("#email")))
	signIn("admin@example.com", adminPassword, membersPage)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != ts.URL+"/orgs/acme/members" {
		t.Fatalf("after sign-in went to %s, not the page asked for", loc)
	}
	step(t, ctx, "sign out", chromedp.Click(css("form.signout button")), chromedp.WaitVisible(css("#email")))

	// Bob accepts in the browser and lands in the console.
	step(t, ctx, "open the invitation", chromedp.Navigate(link), chromedp.WaitVisible(css("#name")))
	pics.take(ctx, "accept")
	step(t, ctx, "short password", chromedp.SendKeys(css("#name"), "Bob Builder"), chromedp.SendKeys(css("#password"), "short"),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#field-error")))
	if got := text(t, ctx, "#field-error"); !strings.Contains(got, "at least 12 characters") {
		t.Fatalf("short password error: %q", got)
	}
	step(t, ctx, "accept", chromedp.SendKeys(css("#password"), "bob-password-123"),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css(membersPage)))
	if !strings.Contains(text(t, ctx, "header"), "bob@example.com") {
		t.Fatal("not signed in as bob after accepting")
	}
	pics.take(ctx, "joined")
	step(t, ctx, "sign out", chromedp.Click(css("form.signout button")), chromedp.WaitVisible(css("#email")))

	// The admin changes Bob's role, then removes him.
	api := loggedIn(t, ts)
	var bob string
	for _, m := range api.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 200).JSON()["items"].([]any) {
		if mm := m.(map[string]any); mm["email"] == "bob@example.com" {
			bob = mm["user_id"].(string)
		}
	}
	signIn("admin@example.com", adminPassword, membersPage)
	step(t, ctx, "change role", chromedp.SetValue(css("#role-"+bob), "viewer"),
		chromedp.Click(css("#roles-form button")), chromedp.WaitVisible(css(".notice")))
	if got, _ := chromedp.Run(ctx, chromedp.Value(css("#role-"+bob))); got != "viewer" {
		t.Fatalf("role after change: %q", got)
	}
	pics.take(ctx, "role-changed")
	step(t, ctx, "remove", chromedp.Navigate(ts.URL+"/orgs/acme/members"), chromedp.WaitVisible(css("#role-"+bob)),
		chromedp.Click(css("tr:has(#role-"+bob+") details.confirm summary")),
		chromedp.WaitVisible(css("form[action$='/members/"+bob+"/remove'] button")),
		chromedp.Click(css("form[action$='/members/"+bob+"/remove'] button")), chromedp.WaitVisible(css(".notice")))
	if got := text(t, ctx, ".notice"); got != "The member was removed." {
		t.Fatalf("notice: %q", got)
	}
	if strings.Contains(text(t, ctx, "table"), "bob@example.com") {
		t.Fatal("bob is still listed")
	}
	pics.take(ctx, "removed")
}

// TestConsoleServiceAccounts creates a service account in Chromium (first
// with a 21-character name, seeing the error as typed and from the
// server), takes the client ID and secret off the page and gets a token
// with them over HTTP, then disables, enables, rotates and deletes it.
func TestConsoleServiceAccounts(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	browserSignIn(t, ctx, ts)
	step(t, ctx, "open the tab", chromedp.Click(css("nav.tabs a[href$='/service-accounts']")), chromedp.WaitVisible(css("a.button")))
	pics.take(ctx, "service-accounts-empty")
	step(t, ctx, "open the form", chromedp.Click(css("a.button")), chromedp.WaitVisible(css("#sa-name")))

	long := strings.Repeat("a", 21)
	step(t, ctx, "type a 21-character name", chromedp.SendKeys(css("#sa-name"), long), chromedp.WaitVisible(css("#sa-name-error")))
	if got := text(t, ctx, "#sa-name-error"); !strings.Contains(got, "at most 20 characters") {
		t.Fatalf("error as you type: %q", got)
	}
	step(t, ctx, "submit it anyway", chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#sa-name-error[data-from=server]")))
	if got := text(t, ctx, "#sa-name-error"); !strings.Contains(got, "at most 20 characters (it has 21)") {
		t.Fatalf("server error: %q", got)
	}
	pics.take(ctx, "name-too-long")

	// The lifetime is bounded as you type: 4 minutes is too short.
	step(t, ctx, "lifetime too short", chromedp.SetValue(css("#sa-ttl-unit"), "minutes"), chromedp.SetValue(css("#sa-ttl"), "4"),
		chromedp.WaitVisible(css("#sa-ttl-error")))
	if got := text(t, ctx, "#sa-ttl-error"); got != "Choose between 5 minutes and 30 days." {
		t.Fatalf("lifetime error: %q", got)
	}
	step(t, ctx, "create", chromedp.SetValue(css("#sa-name"), "deploy-bot"), chromedp.SendKeys(css("#sa-description"), "Deploys from CI"),
		chromedp.SetValue(css("#sa-role"), "member"), chromedp.SetValue(css("#sa-ttl"), "5"), chromedp.SetValue(css("#sa-ttl-unit"), "minutes"),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#client-secret")))
	pics.take(ctx, "created")
	id, err := chromedp.Run(ctx, chromedp.Value(css("#client-id")))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(css("#client-secret")))
	if err != nil || !strings.HasPrefix(secret, "tgs_") {
		t.Fatalf("secret %q, %v", secret, err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, secret) {
		t.Fatal("the secret is in the URL")
	}
	tok := token(t, ts.URL, id, secret)
	if tok["expires_in"].(float64) > 300 || tok["service_account"].(map[string]any)["name"] != "deploy-bot" {
		t.Fatalf("token from the console's credentials: %v", tok)
	}

	step(t, ctx, "account page", chromedp.Click(css("a[href$='/service-accounts/"+id+"']")), chromedp.WaitVisible(css("dl.details")))
	pics.take(ctx, "account")
	step(t, ctx, "disable", chromedp.Click(css("form[action$='/disable'] button")), chromedp.WaitVisible(css(".notice")))
	if !strings.Contains(text(t, ctx, ".badge"), "disabled") {
		t.Fatal("not shown as disabled")
	}
	step(t, ctx, "enable", chromedp.Click(css("form[action$='/enable'] button")), chromedp.WaitVisible(css("form[action$='/disable']")))
	step(t, ctx, "rotate", chromedp.Click(css("form[action$='/rotate'] button")), chromedp.WaitVisible(css("#client-secret")))
	rotated, _ := chromedp.Run(ctx, chromedp.Value(css("#client-secret")))
	if rotated == secret || !strings.HasPrefix(rotated, "tgs_") {
		t.Fatalf("rotated secret %q", rotated)
	}
	token(t, ts.URL, id, rotated)
	step(t, ctx, "back to the account", chromedp.Navigate(ts.URL+"/orgs/acme/service-accounts/"+id), chromedp.WaitVisible(css("dl.details")))
	step(t, ctx, "delete, wrong name", chromedp.Click(css("details.danger-zone summary")), chromedp.SendKeys(css("#confirm-name"), "deploy"),
		chromedp.Click(css("form[action$='/delete'] button")), chromedp.WaitVisible(css(".error")))
	pics.take(ctx, "delete-refused")
	step(t, ctx, "delete", chromedp.Click(css("details.danger-zone summary")), chromedp.SendKeys(css("#confirm-name"), "deploy-bot"),
		chromedp.Click(css("form[action$='/delete'] button")), chromedp.WaitVisible(css(".notice")))
	if strings.Contains(text(t, ctx, "table"), "deploy-bot") {
		t.Fatal("the deleted account is still listed")
	}
	pics.take(ctx, "deleted")
}

// rightClick presses the right mouse button on the first node matching sel.
func rightClick(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		nodes, err := chromedp.Nodes(css(sel), chromedp.NodeVisible)(ctx, t)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.MouseClickNode(nodes[0], chromedp.ButtonRight)(ctx, t)
	}
}

// TestConsoleTokens walks the seed page in Chromium: a member owning an
// imported token cannot be removed, the page links to their tokens, a
// right-click reassigns the token to a service account, the member is
// removed; a public token with a wildcard domain is refused next to the
// field, then added with a real origin and revoked from its ⋯ menu; and
// every action is in the audit log.
func TestConsoleTokens(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	api := loggedIn(t, ts)
	widget := newSA(t, api, "acme", "widget", 300, "member")["id"].(string)
	_, bob := invite(t, ts, api, "acme", "bob@example.com", "member")
	api.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "bob's old key", "owner_user_id": bob,
		"token": "legacy-key-of-bob-0123456789", "kind": "private"}).want(t, 201)

	browserSignIn(t, ctx, ts)

	// Removing Bob is blocked by his token; the page says so and links to it.
	step(t, ctx, "try to remove bob", chromedp.Click(css("tr:has(#role-"+bob+") details.confirm summary")),
		chromedp.Click(css("form[action$='/members/"+bob+"/remove'] button")), chromedp.WaitVisible(css(".error a")))
	if got := text(t, ctx, ".error"); !strings.Contains(got, "still owns 1 API token") {
		t.Fatalf("blocked removal: %q", got)
	}
	pics.take(ctx, "removal-blocked")
	step(t, ctx, "follow the link", chromedp.Click(css(".error a")), chromedp.WaitVisible(css("tr[data-menu]")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "Showing the tokens of bob@example.com") {
		t.Fatal("the tokens page is not filtered to bob")
	}

	// Right-click the row: the menu opens; its reassign link opens the
	// picker, which reassigns to the service account.
	step(t, ctx, "right-click", rightClick("tr[data-menu] td"), chromedp.WaitVisible(css("details.menu[open] .menu-body")))
	pics.take(ctx, "context-menu")
	step(t, ctx, "open the picker", chromedp.Click(css("details.menu[open] a[href$='/reassign']")), chromedp.WaitVisible(css("#search-q")))
	pics.take(ctx, "reassign-picker")
	step(t, ctx, "reassign", chromedp.Click(css("form:has(input[value='"+widget+"']) button")), chromedp.WaitVisible(css(".notice")))
	if got := text(t, ctx, "tbody"); !strings.Contains(got, "widget") || strings.Contains(got, "bob@example.com") {
		t.Fatalf("after reassignment: %q", got)
	}
	step(t, ctx, "remove bob", chromedp.Navigate(ts.URL+"/orgs/acme/members"), chromedp.WaitVisible(css("#role-"+bob)),
		chromedp.Click(css("tr:has(#role-"+bob+") details.confirm summary")),
		chromedp.Click(css("form[action$='/members/"+bob+"/remove'] button")), chromedp.WaitVisible(css(".notice")))
	pics.take(ctx, "member-removed")

	// Add a public token: a wildcard is refused next to the field.
	step(t, ctx, "add token", chromedp.Navigate(ts.URL+"/orgs/acme/tokens/new"), chromedp.WaitVisible(css("#tok-name")),
		chromedp.SendKeys(css("#tok-name"), "storefront"), chromedp.Click(css("input[name=kind][value=public]")),
		chromedp.SendKeys(css("#tok-domains"), "https://*.example.com"), chromedp.Click(css("main form[method=post] button[type=submit]")),
		chromedp.WaitVisible(css("#tok-domains-error[data-from=server]")))
	if got := text(t, ctx, "#tok-domains-error"); !strings.Contains(got, "list each subdomain") {
		t.Fatalf("wildcard error: %q", got)
	}
	pics.take(ctx, "wildcard-refused")
	step(t, ctx, "fix the domain", chromedp.SetValue(css("#tok-domains"), "https://shop.example.com/"),
		chromedp.Click(css("main form[method=post] button[type=submit]")), chromedp.WaitVisible(css("#new-token")))
	plain, _ := chromedp.Run(ctx, chromedp.Value(css("#new-token")))
	if !strings.HasPrefix(plain, "tgq_") {
		t.Fatalf("new token %q", plain)
	}
	wantCheck(t, check(t, ts.URL, "GET", plain, "Origin", "https://shop.example.com"), 200)
	pics.take(ctx, "token-added")

	// Revoke it from its ⋯ button (the keyboard and touch path).
	step(t, ctx, "revoke", chromedp.Navigate(ts.URL+"/orgs/acme/tokens"), chromedp.WaitVisible(css("tr[data-menu]")),
		chromedp.Click(css("tr:has(.badge.public) details.menu summary")),
		chromedp.Click(css("details.menu[open] details.revoke summary")),
		chromedp.Click(css("details.menu[open] form[action$='/revoke'] button")), chromedp.WaitVisible(css(".notice")))
	wantCheck(t, check(t, ts.URL, "GET", plain, "Origin", "https://shop.example.com"), 401)
	pics.take(ctx, "revoked")

	// Every action is in the console's audit log, newest first.
	step(t, ctx, "audit log", chromedp.Click(css("header nav a[href$='/audit']")), chromedp.WaitVisible(css("form.filters")))
	log := text(t, ctx, "tbody")
	for _, want := range []string{"member.removal_blocked", "token.reassigned", "member.removed", "token.created", "token.revoked"} {
		if !strings.Contains(log, want) {
			t.Errorf("%s is not in the audit log page", want)
		}
	}
	if strings.Index(log, "token.revoked") > strings.Index(log, "token.created") {
		t.Error("the audit log is not newest first")
	}
	pics.take(ctx, "audit-log")
	step(t, ctx, "filter", chromedp.SetValue(css("#f-action"), "token.reassigned"), chromedp.Click(css("form.filters button")))
	waitURL(t, ctx, "action=token.reassigned")
	if rows := text(t, ctx, "tbody"); strings.Count(rows, "token.reassigned") != 1 || strings.Contains(rows, "token.created") {
		t.Fatalf("filtered log: %q", rows)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(css("a.button"), "href"))
	href := attr.Value
	if err != nil || !strings.Contains(href, "/audit-events/export?action=token.reassigned") {
		t.Fatalf("export link %q, %v", href, err)
	}
	if export := api.do("GET", href, nil).want(t, 200); strings.Count(string(export.Body), "\n") != 1 {
		t.Fatalf("export: %s", export.Body)
	}

	// Settings: a bad value is refused next to its field, a good one saved.
	step(t, ctx, "settings", chromedp.Click(css("header nav a[href$='/settings']")), chromedp.WaitVisible(css("#org-floor")),
		chromedp.SetValue(css("#org-floor"), "-5"), chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#org-floor-error")))
	step(t, ctx, "save settings", chromedp.SetValue(css("#org-floor"), "60"), chromedp.Click(css("main button[type=submit]")),
		chromedp.WaitVisible(css(".notice")))
	if got := api.do("GET", "/api/v1/orgs/acme", nil).want(t, 200).JSON()["settings"].(map[string]any)["token_reuse_floor_seconds"]; got != float64(60) {
		t.Fatalf("floor after saving: %v", got)
	}
	pics.take(ctx, "settings")
}

// TestConsoleAPIReference opens /docs in Chromium: the vendored Swagger UI
// renders /openapi.json (no network beyond Tollgate), and "Try it out"
// calls the API from the page.
func TestConsoleAPIReference(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	step(t, ctx, "open /docs", chromedp.Navigate(ts.URL+"/docs"), chromedp.WaitVisible(css(".swagger-ui .info .title")))
	if got := text(t, ctx, ".swagger-ui .info .title"); !strings.Contains(got, "Tollgate admin API") {
		t.Fatalf("title %q", got)
	}
	pics.take(ctx, "reference")
	step(t, ctx, "try /healthz", chromedp.Click(css(".opblock-summary-path[data-path='/healthz']")),
		chromedp.WaitVisible(css(".opblock.is-open .try-out__btn")), chromedp.Click(css(".opblock.is-open .try-out__btn")),
		chromedp.WaitVisible(css(".opblock.is-open .execute")), chromedp.Click(css(".opblock.is-open .execute")),
		chromedp.WaitVisible(css(".opblock.is-open .live-responses-table tbody .response-col_status")))
	if got := text(t, ctx, ".opblock.is-open .live-responses-table tbody .response-col_status"); !strings.Contains(got, "200") {
		t.Fatalf("try it out answered %q", got)
	}
	pics.take(ctx, "try-it")
}

// TestConsoleAtPhoneWidth loads each console page at 390×844: nothing
// scrolls sideways but the tables, and every page passes axe-core.
func TestConsoleAtPhoneWidth(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	pics := newShots(t)
	api := loggedIn(t, ts)
	sa := newSA(t, api, "acme", "phone-bot", 300, "member")["id"].(string)
	newToken(t, api, "acme", sa, "public", "https://m.example.com")
	// The account page's keys and federated credentials have rows too.
	addKey(t, api, sa, string(josetest.NewKey("ES256", "", 0).PublicJWK()))
	api.do("POST", "/api/v1/orgs/acme/service-accounts/"+sa+"/federated-credentials", map[string]any{"name": "github-main",
		"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:octo-org/octo-repo:environment:production",
		"claims": map[string]string{"repository": "octo-org/octo-repo", "ref": "refs/heads/main"}}).want(t, 201)
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844))
	browserSignIn(t, ctx, ts)
	for _, p := range []struct{ name, path, ready string }{
		{"members", "/orgs/acme/members", "nav.tabs"},
		{"service-accounts", "/orgs/acme/service-accounts", "a.button"},
		{"new-service-account", "/orgs/acme/service-accounts/new", "#sa-name"},
		{"account", "/orgs/acme/service-accounts/" + sa, "dl.details"},
		{"account-github-template", "/orgs/acme/service-accounts/" + sa + "?template=github", "#fed-issuer"},
		{"tokens", "/orgs/acme/tokens", "tr[data-menu]"},
		{"new-token", "/orgs/acme/tokens/new", "#tok-name"},
		{"audit", "/orgs/acme/audit", "form.filters"},
		{"settings", "/orgs/acme/settings", "#org-floor"},
	} {
		step(t, ctx, p.name, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(css(p.ready)))
		// The header keeps to two lines: sign-out sits beside the brand, and
		// the sections share one line (it scrolls sideways if need be).
		if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Math.abs(document.querySelector(".top .signout").getBoundingClientRect().top - document.querySelector(".top .brand").getBoundingClientRect().top) < 12`)); err != nil || !same {
			t.Errorf("%s: the header wraps sign-out onto a line of its own (%v)", p.name, err)
		}
		if one, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Set(Array.from(document.querySelectorAll(".top nav a")).map(a => Math.round(a.getBoundingClientRect().top))).size === 1`)); err != nil || !one {
			t.Errorf("%s: the sections wrap onto a second line (%v)", p.name, err)
		}
		// Row actions stay on screen.
		if off, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll("details.menu summary")).some(s => s.getBoundingClientRect().right > window.innerWidth)`)); err != nil || off {
			t.Errorf("%s: a row's ⋯ actions are off screen (%v)", p.name, err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("%s scrolls sideways at phone width (%v)", p.name, err)
		}
		pics.take(ctx, "phone-"+p.name)
	}
}
