package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tollgate/tollgate/internal/stacktest"
)

// loginRun runs "tollgate login" in the background with HOME at home and
// returns, once it shows its code, the link it printed and a channel with
// its outcome.
type loginRun struct {
	link, code     string
	stdout, stderr *stacktest.SyncBuffer
	done           chan error
}

var loginLinkRE = regexp.MustCompile(`open\n\n  (\S+)\n\nand check that the page shows the code (\S+),`)

func startLogin(t *testing.T, ts *testServer, home string) *loginRun {
	t.Helper()
	l := &loginRun{stdout: &stacktest.SyncBuffer{}, stderr: &stacktest.SyncBuffer{}, done: make(chan error, 1)}
	env := map[string]string{"HOME": home}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	go func() {
		l.done <- run(ctx, []string{"login", "--server", ts.URL}, func(k string) string { return env[k] }, strings.NewReader(""), l.stdout, l.stderr)
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := loginLinkRE.FindStringSubmatch(l.stderr.String()); m != nil {
			l.link, l.code = m[1], m[2]
			return l
		}
		select {
		case err := <-l.done:
			t.Fatalf("login ended before showing a code: %v\n%s", err, l.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("login showed no code:\n%s", l.stderr)
		}
	}
}

func (l *loginRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.done:
		return err
	case <-time.After(90 * time.Second):
		t.Fatalf("login did not finish:\n%s", l.stderr)
		return nil
	}
}

// TestLoginEndToEnd: "tollgate login" waits while a person approves its
// code in Chromium, then saves a credential (0600, in a 0700 directory)
// that the admin commands use as that person, and that the console lists
// and "tollgate logout" revokes. A second login is denied in the browser.
func TestLoginEndToEnd(t *testing.T) {
	ctx := browser(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	home := t.TempDir()
	l := startLogin(t, ts, home)
	u, err := url.Parse(l.link)
	if err != nil || u.Path != "/device" || u.Query().Get("user_code") != l.code {
		t.Fatalf("login link %q", l.link)
	}

	// The person opens the link, signs in, checks the code and approves.
	step(t, ctx, "open the link", chromedp.Navigate(ts.URL+u.RequestURI()), chromedp.WaitVisible(css("#email")))
	step(t, ctx, "sign in", chromedp.SendKeys(css("#email"), "admin@example.com"), chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("#user-code")))
	if v, _ := chromedp.Run(ctx, chromedp.Value(css("#user-code"))); v != l.code {
		t.Fatalf("the form holds %q, want %q", v, l.code)
	}
	checkA11y(t, ctx, "device code form")
	step(t, ctx, "continue", chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("dl.details")))
	if got := text(t, ctx, "dl.details"); !strings.Contains(got, l.code) || !strings.Contains(got, "tollgate-cli/") || !strings.Contains(got, "127.0.0.1") {
		t.Fatalf("the confirmation shows %q", got)
	}
	checkA11y(t, ctx, "device confirmation")
	select {
	case err := <-l.done:
		t.Fatalf("login ended before approval: %v", err)
	default:
	}
	step(t, ctx, "approve", chromedp.Click(css("form input[value=approve] ~ button")), chromedp.WaitVisible(css("p.notice")))
	if got := text(t, ctx, "p.notice"); !strings.Contains(got, "Approved") {
		t.Fatalf("after approving: %q", got)
	}
	if err := l.wait(t); err != nil {
		t.Fatalf("login: %v\n%s", err, l.stderr)
	}
	if got := l.stdout.String(); got != "Logged in to "+ts.URL+" as admin@example.com\n" {
		t.Fatalf("login printed %q", got)
	}

	// The credential is saved for the owner alone.
	path := filepath.Join(home, ".config", "tollgate", "credentials.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("credentials directory: %v %v", di, err)
	}
	var saved map[string]savedCredential
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &saved); err != nil || !strings.HasPrefix(saved[ts.URL].Token, "tgc_") || saved[ts.URL].Email != "admin@example.com" ||
		time.Until(saved[ts.URL].ExpiresAt) < 6*24*time.Hour {
		t.Fatalf("saved %s (%v)", b, err)
	}

	// The admin commands act as the person: a super admin creates a
	// service account, audited via CLI.
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"service-accounts", "create", "--name", "cli-made", "--role", "viewer", "--server", ts.URL, "--output", "json"},
		getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("create with the saved credential: %v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"audit", "list", "--action", "service_account.created", "--server", ts.URL, "--output", "json"},
		getenv, strings.NewReader(""), &out, &errOut); err != nil || !strings.Contains(out.String(), `"via": "cli"`) {
		t.Fatalf("audit: %v %s", err, out.String())
	}

	// The console lists the CLI's session.
	step(t, ctx, "open the sessions page", chromedp.Navigate(ts.URL+"/account/sessions"), chromedp.WaitVisible(css("table")))
	if got := text(t, ctx, "table"); !strings.Contains(got, "Command line") || !strings.Contains(got, "tollgate-cli/") || !strings.Contains(got, "(this browser)") {
		t.Fatalf("sessions page: %q", got)
	}
	checkA11y(t, ctx, "sessions")

	// logout revokes it on the server and forgets it here.
	out.Reset()
	if err := run(context.Background(), []string{"logout", "--server", ts.URL}, getenv, strings.NewReader(""), &out, &errOut); err != nil || out.String() != "Logged out of "+ts.URL+"\n" {
		t.Fatalf("logout: %v %q", err, out.String())
	}
	step(t, ctx, "reload the sessions page", chromedp.Reload(), chromedp.WaitVisible(css("table")))
	if got := text(t, ctx, "table"); strings.Contains(got, "Command line") {
		t.Fatalf("the session outlived logout: %q", got)
	}
	err = run(context.Background(), []string{"service-accounts", "list", "--server", ts.URL}, getenv, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "tollgate login --server "+ts.URL) {
		t.Fatalf("after logout: %v", err)
	}

	// A second login, denied in the browser, ends with a one-line error.
	l = startLogin(t, ts, home)
	u, _ = url.Parse(l.link)
	step(t, ctx, "open the second link", chromedp.Navigate(ts.URL+u.RequestURI()), chromedp.WaitVisible(css("#user-code")),
		chromedp.Click(css("main button[type=submit]")), chromedp.WaitVisible(css("dl.details")))
	step(t, ctx, "deny", chromedp.Click(css("form input[value=deny] ~ button")), chromedp.WaitVisible(css("p.notice")))
	if err := l.wait(t); err == nil || err.Error() != "the login was denied in the console" {
		t.Fatalf("denied login: %v", err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "tgc_") {
		t.Fatalf("a denied login saved %s", b)
	}
}

// deviceLogin signs c's person in at the command line as "tollgate login"
// does, approving the code with c's console session, and returns the
// tgc_ credential. Both OAuth answers are checked against the OpenAPI
// document.
func deviceLogin(t *testing.T, c *client) string {
	t.Helper()
	const form = "application/x-www-form-urlencoded"
	da := c.do("POST", "/oauth2/device_authorization", "client_id=tollgate-cli", "Content-Type", form).want(t, 200).JSON()
	resp, err := c.http.PostForm(c.base+"/device", url.Values{"user_code": {da["user_code"].(string)}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	body := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"tollgate-cli"}, "device_code": {da["device_code"].(string)}}.Encode()
	tok := c.do("POST", "/oauth2/token", body, "Content-Type", form).want(t, 200).JSON()
	// Spent: the same code again is invalid_grant, as documented.
	if r := c.do("POST", "/oauth2/token", body, "Content-Type", form); r.Status != 400 || r.JSON()["error"] != "invalid_grant" {
		t.Fatalf("a spent device code: %s", r)
	}
	return tok["access_token"].(string)
}

// TestSessionsAndDeviceMatchOpenAPI checks the answers of the sessions
// endpoints and of each step of the device grant against the OpenAPI
// document, on each store: the lists and revocations of a person's
// sessions, with the cookie and with a tgc_ credential; every refusal of
// the device authorization endpoint and of the device grant, including
// the limit on logins started.
func TestSessionsAndDeviceMatchOpenAPI(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, db(t), map[string]string{"TOLLGATE_LIMIT_DEVICE": "4/1h"})
			admin := newClient(t, ts.URL)
			admin.signIn("admin@example.com", adminPassword)
			cli := newClient(t, ts.URL)
			cli.bearer = deviceLogin(t, admin) // one login started
			list := admin.do("GET", "/api/v1/me/sessions", nil).want(t, 200).JSON()["items"].([]any)
			if len(list) != 2 {
				t.Fatalf("sessions %v", list)
			}
			var cliSession string
			for _, it := range cli.do("GET", "/api/v1/me/sessions", nil).want(t, 200).JSON()["items"].([]any) {
				if s := it.(map[string]any); s["current"] == true {
					cliSession = s["id"].(string)
				}
			}
			cli.do("DELETE", "/api/v1/me/sessions/ses_06h3q2fh6v973b1jftkxtvv04w", nil).want(t, 404, "not_found")
			cli.do("DELETE", "/api/v1/me/sessions/nope", nil).want(t, 404, "not_found")
			newClient(t, ts.URL).do("GET", "/api/v1/me/sessions", nil).want(t, 401, "unauthenticated")

			device := func(form url.Values, status int, code string) map[string]any {
				t.Helper()
				got, v, _ := oauthCall(t, ts.URL, "/oauth2/device_authorization", "", "", false, form)
				if got != status || (code != "" && v["error"] != code) {
					t.Fatalf("device authorization %v: %d %v, want %d %s", form, got, v, status, code)
				}
				return v
			}
			device(url.Values{}, 400, "invalid_request")
			device(url.Values{"client_id": {"tollgate-cli"}, "scope": {"admin"}}, 400, "invalid_scope")
			device(url.Values{"client_id": {"someone-else"}}, 401, "invalid_client") // two started
			da := device(url.Values{"client_id": {"tollgate-cli"}}, 200, "")         // three
			poll := func(form url.Values, status int, code string) {
				t.Helper()
				form.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
				if got, v, _ := oauthCall(t, ts.URL, "/oauth2/token", "", "", false, form); got != status || v["error"] != code {
					t.Fatalf("device grant %v: %d %v, want %d %s", form, got, v, status, code)
				}
			}
			dc := da["device_code"].(string)
			poll(url.Values{"client_id": {"tollgate-cli"}, "device_code": {dc}}, 400, "authorization_pending")
			poll(url.Values{"client_id": {"tollgate-cli"}, "device_code": {dc}}, 400, "slow_down")
			poll(url.Values{"client_id": {"tollgate-cli"}, "device_code": {"tgd_unknown"}}, 400, "invalid_grant")
			poll(url.Values{"client_id": {"tollgate-cli"}}, 400, "invalid_request")
			poll(url.Values{"client_id": {"tollgate-cli"}, "client_secret": {"x"}, "device_code": {dc}}, 401, "invalid_client")
			device(url.Values{"client_id": {"tollgate-cli"}}, 200, "") // four
			if v := device(url.Values{"client_id": {"tollgate-cli"}}, 429, "slow_down"); v["error_description"] == "" {
				t.Fatalf("limited device authorization %v", v)
			}

			// The person revokes the CLI's session from the browser.
			admin.do("DELETE", "/api/v1/me/sessions/"+cliSession, nil).want(t, 204)
			cli.do("GET", "/api/v1/me/sessions", nil).want(t, 401, "unauthenticated")
			admin.do("DELETE", "/api/v1/me/sessions/"+cliSession, nil).want(t, 404, "not_found")
		})
	}
}
