package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// get fetches a console page with the session cookie.
func get(h http.Handler, path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestConsoleSecretlessForms posts the account page's key, federated
// credential and DPoP forms (K4) without a browser: each rule broken
// comes back next to its field in its section, a private key is never
// echoed back, success returns to the section's anchor, templates fill
// the form server-side, and cross-site posts are refused.
func TestConsoleSecretlessForms(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h, id := env.Handler, env.Account.ID
	cookie := consoleSession(t, h)
	page := "/orgs/acme/service-accounts/" + id
	key := josetest.NewKey("ES256", "", 0)
	priv := josetest.NewKey("EdDSA", "wl-1", 0)

	for _, tc := range []struct {
		name, path string
		values     url.Values
		status     int
		says       []string
		not        string
	}{
		{"private JWK", page + "/keys", url.Values{"public_key": {string(priv.PrivateJWK())}}, 422,
			[]string{`id="key-public-error"`, "holds a private key", "cleared from this page"}, `"d":`},
		{"private PEM", page + "/keys", url.Values{"public_key": {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"}}, 422,
			[]string{`id="key-public-error"`, "this is a private key"}, "MC4CAQAwBQYDK2VwBCIEIA"},
		{"not a key", page + "/keys", url.Values{"public_key": {"hello"}}, 422, []string{`id="key-public-error"`, "JWK", ">hello</textarea>"}, ""},
		{"key expiry in the past", page + "/keys", url.Values{"public_key": {string(key.PublicJWK())}, "expires": {"2001-01-01"}}, 422,
			[]string{`id="key-expires-error"`, "in the future"}, ""},
		{"wildcard subject", page + "/federated-credentials", url.Values{"name": {"gh"}, "issuer": {"https://token.actions.githubusercontent.com"}, "subject": {"repo:octo/*"}}, 422,
			[]string{`id="fed-subject-error"`, "wildcards are not supported", `value="repo:octo/*"`}, ""},
		{"http issuer", page + "/federated-credentials", url.Values{"name": {"gh"}, "issuer": {"http://issuer.example.com"}}, 422,
			[]string{`id="fed-issuer-error"`, "must use https"}, ""},
		{"no name", page + "/federated-credentials", url.Values{"issuer": {"https://gitlab.com"}}, 422, []string{`id="fed-name-error"`, "name is required"}, ""},
		{"claim without a value", page + "/federated-credentials", url.Values{"name": {"gh"}, "issuer": {"https://token.actions.githubusercontent.com"},
			"template": {"github"}, "claim_name": {"repository", "ref"}, "claim_value": {"octo-org/octo-repo", ""}}, 422,
			[]string{`id="fed-claim-1-error"`, "claims.ref is required", `placeholder="refs/heads/main"`}, ""},
		{"claim twice", page + "/federated-credentials", url.Values{"name": {"gh"}, "issuer": {"https://token.actions.githubusercontent.com"},
			"claim_name": {"ref", "ref"}, "claim_value": {"a", "b"}}, 422, []string{`id="fed-claims-error"`, "listed twice"}, ""},
		{"reserved claim", page + "/federated-credentials", url.Values{"name": {"gh"}, "issuer": {"https://token.actions.githubusercontent.com"},
			"claim_name": {"aud"}, "claim_value": {"x"}}, 422, []string{`id="fed-claim-0-error"`, "checked by the credential itself"}, ""},
		{"unknown key", page + "/keys/ck_nope/delete", url.Values{}, 404, []string{"not found"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := form(h, tc.path, tc.values, cookie)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d:\n%.600s", rec.Code, tc.status, body)
			}
			for _, s := range tc.says {
				if !strings.Contains(body, s) {
					t.Errorf("the page does not say %q", s)
				}
			}
			if tc.not != "" && strings.Contains(body, tc.not) {
				t.Errorf("the page echoes %q", tc.not)
			}
			if rec := form(h, tc.path, tc.values, cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
				t.Fatalf("cross-site post answered %d", rec.Code)
			}
		})
	}

	// The templates fill the form on the server: no JavaScript needed.
	body := get(h, page+"?template=github", cookie).Body.String()
	for _, s := range []string{`value="https://token.actions.githubusercontent.com"`, `value="repository"`, `placeholder="octo-org/octo-repo"`,
		`value="environment"`, `placeholder="repo:&lt;owner&gt;/&lt;repo&gt;:environment:&lt;env&gt;"`, `name="template" value="github"`,
		`$ACTIONS_ID_TOKEN_REQUEST_URL&amp;audience=` + stacktest.Issuer, "subject_token=$OIDC_TOKEN", "client_id=" + id} {
		if !strings.Contains(body, s) {
			t.Errorf("GitHub template: the page lacks %s", s)
		}
	}
	body = get(h, page+"?template=kubernetes", cookie).Body.String()
	if !strings.Contains(body, "kubectl get --raw /.well-known/openid-configuration") || !strings.Contains(body, "system:serviceaccount:&lt;namespace&gt;:&lt;name&gt;") {
		t.Error("the Kubernetes template lacks its hints")
	}

	// Success goes back to the section, which lists the new entries.
	rec := form(h, page+"/keys", url.Values{"public_key": {string(key.PublicJWK())}}, cookie)
	if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "?notice=key_added#keys") {
		t.Fatalf("add key: %d %v", rec.Code, rec.Header())
	}
	rec = form(h, page+"/federated-credentials", url.Values{"name": {"deploy"}, "issuer": {"https://token.actions.githubusercontent.com"},
		"claim_name": {"repository", "ref", ""}, "claim_value": {"octo-org/octo-repo", "refs/heads/main", ""}}, cookie)
	if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "#federated") {
		t.Fatalf("add federated credential: %d %s", rec.Code, rec.Body)
	}
	body = get(h, page+"?notice=key_added", cookie).Body.String()
	for _, s := range []string{key.Thumbprint(), "ES256", "repository = octo-org/octo-repo", "ref = refs/heads/main", "The key was added"} {
		if !strings.Contains(body, s) {
			t.Errorf("the account page lacks %q", s)
		}
	}

	// DPoP: the box checked requires it; unchecked (absent) turns it off.
	if rec := form(h, page+"/dpop", url.Values{"require_dpop": {"on"}}, cookie); rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "#dpop") {
		t.Fatalf("require DPoP: %d", rec.Code)
	}
	if sa, err := env.App.GetServiceAccount(t.Context(), env.Admin, "acme", id); err != nil || !sa.RequireDPoP {
		t.Fatalf("after requiring DPoP: %v, %v", sa, err)
	}
	if body := get(h, page, cookie).Body.String(); !strings.Contains(body, `name="require_dpop" value="on" checked`) {
		t.Error("the box is not shown checked")
	}
	if rec := form(h, page+"/dpop", url.Values{"require_dpop": {"on"}}, cookie); !strings.Contains(rec.Header().Get("Location"), "notice=dpop_unchanged") {
		t.Errorf("saving the same state: %v", rec.Header())
	}
	form(h, page+"/dpop", url.Values{}, cookie)
	if sa, _ := env.App.GetServiceAccount(t.Context(), env.Admin, "acme", id); sa.RequireDPoP {
		t.Fatal("DPoP still required after unchecking")
	}
}
