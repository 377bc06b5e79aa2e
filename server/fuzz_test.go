package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/oauth"
)

// newHandler builds the whole HTTP stack on a fresh SQLite database, with
// one service account whose credentials it returns.
func newHandler(t testing.TB) (http.Handler, string, string) {
	t.Helper()
	env := stacktest.New(t, stacktest.Options{})
	return env.Handler, env.Account.ID, env.Secret
}

// serve runs req through h and fails the fuzz input on a 5xx, which bad
// input must never cause.
func serve(t *testing.T, store string, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s: %s %s answered %d: %s", store, req.Method, req.URL, rec.Code, rec.Body)
	}
	return rec
}

// FuzzOAuthEndpoints sends arbitrary bodies, content types and
// Authorization headers to the token, introspection and revocation
// endpoints, on both stores: the answer is never a 5xx and never a panic,
// and errors are RFC 6749 JSON.
func FuzzOAuthEndpoints(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{})
	id, secret := envs["sqlite"].Account.ID, envs["sqlite"].Secret
	f.Add(uint8(0), "grant_type=client_credentials&client_id="+id+"&client_secret="+secret, "application/x-www-form-urlencoded", "")
	f.Add(uint8(0), "grant_type=client_credentials", "application/x-www-form-urlencoded", "Basic "+secret)
	f.Add(uint8(1), "token=eyJhbGciOiJFZERTQSJ9.e30.sig&client_id="+id+"&client_secret="+secret, "application/x-www-form-urlencoded", "")
	f.Add(uint8(2), "token=x", "application/x-www-form-urlencoded; charset=utf-8", "Basic Og==")
	f.Add(uint8(0), `{"grant_type":"client_credentials"}`, "application/json", "")
	f.Add(uint8(1), "%zz", "application/x-www-form-urlencoded", "Bearer x")
	f.Add(uint8(0), "grant_type=client_credentials&client_id=sa_%00&client_secret=%ff", "application/x-www-form-urlencoded", "")
	f.Add(uint8(1), "token=legacy%00token%00000000&client_id="+id+"&client_secret="+secret, "application/x-www-form-urlencoded", "")
	f.Add(uint8(2), "token=a&client_assertion=x", "application/x-www-form-urlencoded", "")
	paths := []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"}
	f.Fuzz(func(t *testing.T, which uint8, body, contentType, authorization string) {
		for store, env := range envs {
			req := httptest.NewRequest("POST", paths[int(which)%len(paths)], strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			rec := serve(t, store, env.Handler, req)
			if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error":"`) {
				t.Fatalf("%s: error without an RFC 6749 body: %d %s", store, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzCheck sends arbitrary Authorization, Origin and Referer headers to
// /check, on both stores: the answer is always 200, 401 (with
// WWW-Authenticate), 403 or 429, never a panic; and no answer but a 200
// carries identity headers.
func FuzzCheck(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{})
	f.Add("Bearer tgp_0000000000000000000000000000000000000000000000000", "https://a.example.com", "")
	f.Add("Bearer tgq_", "null", "https://a.example.com/x?y")
	f.Add("Bearer eyJhbGciOiJFZERTQSIsImtpZCI6IngiLCJ0eXAiOiJhdCtqd3QifQ.e30.AA", "", "")
	f.Add("Basic Og==", "https://*.a.com", "//x")
	f.Add("Bearer legacy-token-of-someone-0001", "http://[::1]:99999", "ftp://x/")
	f.Add("Bearer legacy-token-\xff\xfe-invalid-utf8", "https://\xff.example", "")
	f.Fuzz(func(t *testing.T, authorization, origin, referer string) {
		for store, env := range envs {
			req := httptest.NewRequest("GET", "/check", nil)
			for k, v := range map[string]string{"Authorization": authorization, "Origin": origin, "Referer": referer} {
				if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
					req.Header.Set(k, v)
				}
			}
			rec := serve(t, store, env.Handler, req)
			switch rec.Code {
			case 200, 403, 429:
			case 401:
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatalf("%s: 401 without WWW-Authenticate", store)
				}
			default:
				t.Fatalf("%s: /check answered %d: %s", store, rec.Code, rec.Body)
			}
			if rec.Code != 200 && rec.Header().Get("X-Tollgate-Subject") != "" {
				t.Fatalf("%s: identity headers on a refusal", store)
			}
		}
	})
}

// FuzzAdminAPI sends arbitrary methods, paths, queries and JSON bodies to
// the admin API as the signed-in super admin, on both stores: never a 5xx,
// and every refusal is problem+json. Its seeds are the inputs that once
// made PostgreSQL answer 500 (NUL characters, invalid UTF-8).
func FuzzAdminAPI(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{})
	cookies := map[string]*http.Cookie{}
	for store, env := range envs {
		cookies[store] = consoleSession(f, env.Handler)
	}
	sa := "{sa}" // each store's own account
	f.Add(uint8(0), "session", "", `{"email":"a\u0000@example.com","password":"x"}`)
	f.Add(uint8(1), "orgs/acme/service-accounts/\x00", "", "")
	f.Add(uint8(1), "orgs/acme/tokens/\xff", "", "")
	f.Add(uint8(0), "orgs/acme/service-accounts", "", `{"name":"a\u0000","description":"\u0000","role":"viewer","token_ttl_seconds":300}`)
	f.Add(uint8(2), "orgs/acme/service-accounts/"+sa, "", `{"description":"x\u0000y"}`)
	f.Add(uint8(1), "orgs/acme/tokens", "owner_id=%00&kind=%ff", "")
	f.Add(uint8(1), "orgs/acme/audit-events", "actor_id=%00&action=%00&target_id=%ff&since=x", "")
	f.Add(uint8(0), "orgs/acme/tokens", "", `{"name":"t","service_account_id":"sa_\u0000","kind":"private"}`)
	f.Add(uint8(0), "orgs/acme/tokens/import", "", `{"name":"t","owner_user_id":"\u0000","token":"\u0000legacy-token-000000","kind":"private"}`)
	f.Add(uint8(0), "orgs/acme/tokens/tok_\x00/reassign", "", `{"service_account_id":"\ud800"}`)
	f.Add(uint8(3), "orgs/acme/members/usr_\x00", "", "")
	f.Add(uint8(0), "orgs", "", `{"slug":"a\u0000b","name":"x"}`)
	f.Add(uint8(0), "orgs/acme/service-accounts/{sa}/keys", "", `{"public_key":"\u0000"}`)
	f.Add(uint8(0), "orgs/acme/service-accounts/{sa}/keys", "", `{"public_key":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"\u0000"}}`)
	f.Add(uint8(0), "orgs/acme/service-accounts/{sa}/keys", "", `{"public_key":{"kty":"RSA","n":"AQAB","e":"AQAB"},"expires_at":"x"}`)
	f.Add(uint8(3), "orgs/acme/service-accounts/{sa}/keys/ck_\x00", "", "")
	f.Add(uint8(0), "orgs/acme/service-accounts/{sa}/federated-credentials", "", `{"name":"\u0000","issuer":"https://x\u0000","subject":"\ud800","claims":{"\u0000":"a"}}`)
	f.Add(uint8(0), "orgs/acme/service-accounts/{sa}/federated-credentials", "", `{"name":"gh","issuer":"https://token.actions.githubusercontent.com","claims":{"repository":"o/r\u0000"}}`)
	f.Add(uint8(3), "orgs/acme/service-accounts/{sa}/federated-credentials/fed_\xff", "", "")
	f.Add(uint8(2), "orgs/acme/service-accounts/{sa}", "", `{"require_dpop":"yes"}`)
	f.Add(uint8(0), "orgs/acme/webhooks", "", `{"url":"https://h\u0000.example.com/","events":["*"]}`)
	f.Add(uint8(0), "orgs/acme/webhooks", "", `{"url":"https://[::ffff:10.0.0.1]/","events":["token.created","\ud800"],"description":"\u0000"}`)
	f.Add(uint8(0), "orgs/acme/webhooks", "", `{"url":"https://hooks.example.com/x","events":["*"]}`)
	f.Add(uint8(2), "orgs/acme/webhooks/wh_\x00", "", `{"events":null,"url":5}`)
	f.Add(uint8(1), "orgs/acme/webhooks/wh_x/deliveries", "cursor=%00&limit=-1", "")
	f.Add(uint8(2), "orgs/acme", "", `{"settings":{"max_token_ttl_seconds":1e99,"public_tokens_allowed":null}}`)
	f.Add(uint8(1), "orgs/acme/policy-violations", "", "")
	methods := []string{"POST", "GET", "PATCH", "DELETE"}
	f.Fuzz(func(t *testing.T, method uint8, path, query, body string) {
		for store, env := range envs {
			req := httptest.NewRequest("GET", "/", strings.NewReader(body))
			req.Method = methods[int(method)%len(methods)]
			req.URL = &url.URL{Path: "/api/v1/" + strings.ReplaceAll(path, "{sa}", env.Account.ID), RawQuery: query}
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(cookies[store])
			rec := serve(t, store, env.Handler, req)
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: %s %q answered %d as %q: %s", store, req.Method, req.URL, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
		}
	})
}

// FuzzSecretlessGrants sends arbitrary client assertions, workload tokens
// and DPoP headers to the token endpoint, on both stores, for an account
// with a registered key and a federated credential: never a 5xx, and
// every refusal is RFC 6749 JSON. Its seeds include well-signed assertions
// and proofs whose jti holds characters one store might refuse.
func FuzzSecretlessGrants(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{})
	key := josetest.NewKey("EdDSA", "fuzz", 0)
	for _, env := range envs {
		if _, err := env.App.AddClientKey(f.Context(), env.Admin, "acme", env.Account.ID, app.ClientKeyInput{PublicKey: key.PublicJWK()}); err != nil {
			f.Fatal(err)
		}
		if _, err := env.App.AddFederatedCredential(f.Context(), env.Admin, "acme", env.Account.ID, app.FederatedCredentialInput{
			Name: "gh", Issuer: "https://token.actions.githubusercontent.com"}); err != nil {
			f.Fatal(err)
		}
	}
	const tokenURL = stacktest.Issuer + "/oauth2/token"
	// "sign:<jti>" stands for a valid assertion (or proof) with that jti,
	// signed for each store's account as the input runs: such inputs reach
	// the replay log.
	for _, jti := range []string{"plain", "nul\x00", "bad\xffutf8", strings.Repeat("j", 300), ""} {
		f.Add("client_credentials", "sign:"+jti, "", "sign:"+jti)
	}
	// The seeds' path works: a valid assertion with an odd jti and a proof
	// get a DPoP-bound token on each store (a jti is stored hashed).
	for store, env := range envs {
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWT},
			"client_assertion": {key.Assertion(env.Account.ID, tokenURL, time.Now(), time.Minute, map[string]any{"jti": "nul\x00\xff"})}}
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", key.Proof("POST", tokenURL, "", time.Now(), map[string]any{"jti": "\x00"}))
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"token_type":"DPoP"`) {
			f.Fatalf("%s: a valid assertion and proof answered %d %s", store, rec.Code, rec.Body)
		}
	}
	f.Add(oauth.GrantTokenExchange, "", key.Sign("JWT", map[string]any{"iss": "https://token.actions.githubusercontent.com", "aud": stacktest.Issuer}, nil), "")
	f.Add(oauth.GrantJWTBearer, "", josetest.Unsigned(map[string]any{"iss": "https://token.actions.githubusercontent.com"}), "x.y.z")
	f.Add("client_credentials", "a.b.c", "", "\x00")
	f.Fuzz(func(t *testing.T, grant, assertion, subject, dpop string) {
		for store, env := range envs {
			form := url.Values{"grant_type": {grant}}
			switch {
			case strings.HasPrefix(assertion, "sign:"):
				form.Set("client_assertion_type", oauth.AssertionTypeJWT)
				form.Set("client_assertion", key.Assertion(env.Account.ID, tokenURL, time.Now(), time.Minute, map[string]any{"jti": assertion[5:]}))
			case assertion != "":
				form.Set("client_assertion_type", oauth.AssertionTypeJWT)
				form.Set("client_assertion", assertion)
			case grant == oauth.GrantJWTBearer:
				form.Set("client_id", env.Account.ID)
				form.Set("assertion", subject)
			default:
				form.Set("client_id", env.Account.ID)
				form.Set("subject_token", subject)
				form.Set("subject_token_type", oauth.TokenTypeJWT)
			}
			req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if jti, ok := strings.CutPrefix(dpop, "sign:"); ok {
				dpop = key.Proof("POST", tokenURL, "", time.Now(), map[string]any{"jti": jti})
			}
			if dpop != "" && !strings.ContainsAny(dpop, "\r\n\x00") {
				req.Header.Set("DPoP", dpop)
			}
			rec := serve(t, store, env.Handler, req)
			if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Fatalf("%s: %d without an RFC 6749 error: %s", store, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzDeviceGrant sends arbitrary forms to the device authorization
// endpoint, the token endpoint's device grant and the console's /device
// form (signed in), on both stores: never a 5xx, OAuth errors in RFC 6749
// JSON, and the user agent a person is shown kept as the stores keep it
// (NUL and invalid UTF-8 included).
func FuzzDeviceGrant(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{Limits: authn.Limits{Device: authn.Rate{N: 1 << 30, Per: time.Second}, UserCode: authn.Rate{N: 1 << 30, Per: time.Second}}})
	cookies := map[string]*http.Cookie{}
	for store, env := range envs {
		cookies[store] = consoleSession(f, env.Handler)
	}
	f.Add(uint8(0), "client_id=tollgate-cli", "tollgate-cli/1")
	f.Add(uint8(0), "client_id=tollgate-cli&scope=%00", "\x00\xff")
	f.Add(uint8(0), "client_id=%ff%00", "")
	f.Add(uint8(1), "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli&device_code=tgd_%00", "")
	f.Add(uint8(1), "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=%00&device_code=\xff", "")
	f.Add(uint8(1), "grant_type=urn:ietf:params:oauth:grant-type:device_code&grant_type=client_credentials", "")
	f.Add(uint8(2), "user_code=BCDF-GHJK", "")
	f.Add(uint8(2), "user_code=%00%ff&action=approve", "")
	f.Add(uint8(2), "user_code=bcdfghjk&action=deny&action=approve", "")
	f.Add(uint8(2), "user_code=ＢＣＤＦ-ＧＨＪＫ", "")
	f.Fuzz(func(t *testing.T, which uint8, body, userAgent string) {
		for store, env := range envs {
			var req *http.Request
			switch which % 3 {
			case 0:
				req = httptest.NewRequest("POST", "/oauth2/device_authorization", strings.NewReader(body))
			case 1:
				req = httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
			default:
				req = httptest.NewRequest("POST", "/device", strings.NewReader(body))
				req.AddCookie(cookies[store])
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if !strings.ContainsAny(userAgent, "\r\n") {
				req.Header.Set("User-Agent", userAgent)
			}
			rec := serve(t, store, env.Handler, req)
			if which%3 != 2 && rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error":"`) {
				t.Fatalf("%s: error without an RFC 6749 body: %d %s", store, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzLeakReport sends arbitrary bodies to the leaked-credential endpoint
// on both stores, with "{TOKEN}" standing for a real token of that store
// and "{SECRET}" for its account's secret: never a 5xx, and a 200 is one
// verdict per entry, each a SHA-256 and one of the two labels.
func FuzzLeakReport(f *testing.F) {
	envs := stacktest.Stores(f, stacktest.Options{Limits: authn.Limits{Leak: authn.Rate{N: 1 << 30, Per: time.Second}}})
	tokens := map[string]string{}
	for store, env := range envs {
		_, plain, err := env.App.CreateAPIToken(f.Context(), env.Admin, "acme", app.APITokenInput{Name: "fuzz", ServiceAccountID: env.Account.ID, Kind: tollgate.KindPrivate})
		if err != nil {
			f.Fatal(err)
		}
		tokens[store] = plain
	}
	f.Add(`[{"token":"{TOKEN}","type":"tollgate_api_token","url":"https://github.com/a/b","source":"content"}]`)
	f.Add(`[{"token":"{SECRET}","type":"t","url":"\u0000\xff","source":""},{"token":"{SECRET}"}]`)
	f.Add(`[{"token":"tgp_0000000000000000000000000000000000000000000000000"},{"token":"tgc_"},{"token":"tgs_x"}]`)
	f.Add(`[{"token":"{TOKEN}x"},{"token":null},{"token":"` + strings.Repeat("a", 5000) + `"}]`)
	f.Add(`[]`)
	f.Add(`{"token":"{TOKEN}"}`)
	f.Add(`[1,2,3]`)
	f.Fuzz(func(t *testing.T, body string) {
		for store, env := range envs {
			b := strings.ReplaceAll(strings.ReplaceAll(body, "{TOKEN}", tokens[store]), "{SECRET}", env.Secret)
			req := httptest.NewRequest("POST", "/api/v1/credentials/leaked", strings.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			rec := serve(t, store, env.Handler, req)
			if rec.Code != 200 {
				if !strings.Contains(rec.Body.String(), `"code":"`) {
					t.Fatalf("%s: error without a problem body: %d %s", store, rec.Code, rec.Body)
				}
				continue
			}
			var verdicts []struct {
				TokenHash string `json:"token_hash"`
				Label     string `json:"label"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &verdicts); err != nil {
				t.Fatalf("%s: %v: %s", store, err, rec.Body)
			}
			var entries []json.RawMessage
			if json.Unmarshal([]byte(b), &entries) != nil || len(entries) != len(verdicts) {
				t.Fatalf("%s: %d verdicts for %q", store, len(verdicts), b)
			}
			for _, v := range verdicts {
				if len(v.TokenHash) != 64 || (v.Label != "true_positive" && v.Label != "false_positive") {
					t.Fatalf("%s: verdict %+v", store, v)
				}
			}
		}
	})
}
