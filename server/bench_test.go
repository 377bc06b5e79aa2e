package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/logwriter"
	"github.com/tollgate/tollgate/internal/oidctest"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/oauth"
)

// BenchmarkTokenEndpoint measures the handler in-process, without the
// network, for profiling: go test -bench Token -cpuprofile cpu.out ./server
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, mint := range []bool{false, true} {
		name := map[bool]string{false: "reuse", true: "mint"}[mint]
		b.Run(name, func(b *testing.B) {
			h, id, secret := newHandler(b)
			if mint {
				setFloor(b, h, 300)
			}
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
			b.ReportAllocs()
			defer cpuMeter(b)()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// setFloor sets the acme org's reuse floor through the API, signed in as
// the bootstrap admin, so that every token request mints.
func setFloor(b *testing.B, h http.Handler, seconds int) {
	b.Helper()
	req := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"email":"admin@example.com","password":"admin-password-1"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	cookie := rec.Result().Cookies()[0]
	req = httptest.NewRequest("PATCH", "/api/v1/orgs/acme", strings.NewReader(`{"settings":{"token_reuse_floor_seconds":300}}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("floor: %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkSecretless measures the token endpoint's secretless paths
// in-process (each reusing the account's token): private_key_jwt, whose
// assertions are signed beforehand, and token exchange with a workload
// token of a real issuer on 127.0.0.1. The one signature check of each is
// also measured alone ("verify"), so that a profile shows what the rest
// costs: go test -bench Secretless -cpuprofile cpu.out ./server
func BenchmarkSecretless(b *testing.B) {
	gh := oidctest.New(b)
	env := stacktest.New(b, stacktest.Options{FederationInsecureIssuers: []string{gh.URL}})
	key := josetest.NewKey("EdDSA", "bench", 0)
	if _, err := env.App.AddClientKey(b.Context(), env.Admin, "acme", env.Account.ID, app.ClientKeyInput{PublicKey: key.PublicJWK()}); err != nil {
		b.Fatal(err)
	}
	if _, err := env.App.AddFederatedCredential(b.Context(), env.Admin, "acme", env.Account.ID, app.FederatedCredentialInput{
		Name: "gh", Issuer: gh.URL, Subject: "repo:octo-org/octo-repo:environment:prod", Claims: map[string]string{"repository": "octo-org/octo-repo"}}); err != nil {
		b.Fatal(err)
	}
	const tokenURL = stacktest.Issuer + "/oauth2/token"
	post := func(b *testing.B, form string) {
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.Run("private_key_jwt", func(b *testing.B) {
		forms := make([]string, 0, 20000)
		for range cap(forms) {
			forms = append(forms, url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWT},
				"client_assertion": {key.Assertion(env.Account.ID, tokenURL, time.Now(), 9*time.Minute, nil)}}.Encode())
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == len(forms) {
				b.StopTimer()
				forms, i = forms[:0], 0
				for range cap(forms) {
					forms = append(forms, url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWT},
						"client_assertion": {key.Assertion(env.Account.ID, tokenURL, time.Now(), 9*time.Minute, nil)}}.Encode())
				}
				b.StartTimer()
			}
			post(b, forms[i])
			i++
		}
	})
	b.Run("token_exchange", func(b *testing.B) {
		form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {env.Account.ID}, "subject_token_type": {oauth.TokenTypeJWT},
			"subject_token": {gh.Sign(gh.GitHub(stacktest.Issuer, map[string]any{"exp": time.Now().Add(time.Hour).Unix()}))}}.Encode()
		b.ReportAllocs()
		for b.Loop() {
			post(b, form)
		}
	})
	b.Run("verify_EdDSA", func(b *testing.B) {
		pub, _ := oauth.ParsePublicKey(key.PublicJWK())
		a := key.Assertion(env.Account.ID, tokenURL, time.Now(), time.Minute, nil)
		for b.Loop() {
			t, _ := oauth.ParseJWT(a, "x")
			if t.Verify(pub) != nil {
				b.Fatal("no")
			}
		}
	})
}

// BenchmarkCheck measures /check in-process, for profiling: an API token
// and an access token with the credential cache warm, and an API token
// with it cold (CacheTTL 1 ns: every request reads the store, as a gateway
// that sees many distinct tokens does): go test -bench Check -cpuprofile
// cpu.out ./server
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name   string
		ttl    time.Duration
		access bool
	}{{"api-token", 0, false}, {"access-token", 0, true}, {"api-token-cold", time.Nanosecond, false}} {
		b.Run(tc.name, func(b *testing.B) {
			env := stacktest.New(b, stacktest.Options{CacheTTL: tc.ttl})
			h := env.Handler
			var tok string
			if tc.access {
				tok = accessTokenOf(b, h, env.Account.ID, env.Secret)
			} else {
				tok = apiTokenOf(b, h, env.Account.ID)
			}
			b.ReportAllocs()
			defer cpuMeter(b)()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/check", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// accessTokenOf gets an access token for the account at the token endpoint.
func accessTokenOf(b *testing.B, h http.Handler, id, secret string) string {
	b.Helper()
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		b.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return v.AccessToken
}

// apiTokenOf creates a private API token for the account, signed in as
// the bootstrap admin.
func apiTokenOf(b *testing.B, h http.Handler, id string) string {
	b.Helper()
	cookie := consoleSession(b, h)
	req := httptest.NewRequest("POST", "/api/v1/orgs/acme/tokens", strings.NewReader(`{"name":"bench","service_account_id":"`+id+`","kind":"private"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v struct {
		Token string `json:"token"`
	}
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		b.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return v.Token
}

// BenchmarkAccessLog measures /check (API token, cache warm) with the
// access log on, as serve writes it: text lines to a pipe that another
// goroutine drains, written by each request ("direct") or through
// serve's batching writer ("batched", internal/logwriter). It runs in
// parallel on every core, so that ns/op counts the drain's work too.
func BenchmarkAccessLog(b *testing.B) {
	for _, batched := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "batched"}[batched], func(b *testing.B) {
			pr, pw, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			drained := make(chan struct{})
			go func() { io.Copy(io.Discard, pr); close(drained) }()
			var w io.Writer = pw
			var lw *logwriter.Writer
			if batched {
				lw = logwriter.New(pw)
				w = lw
			}
			log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
			env := stacktest.New(b, stacktest.Options{Log: log})
			b.Cleanup(func() {
				if lw != nil {
					lw.Close()
				}
				pw.Close()
				<-drained
			})
			tok := apiTokenOf(b, env.Handler, env.Account.ID)
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuMeter(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "/check", nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					rec := httptest.NewRecorder()
					env.Handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("%d %s", rec.Code, rec.Body)
						return
					}
				}
			})
		})
	}
}

// cpuMeter starts counting the process's CPU time (user and system, every
// thread: the GC's and other goroutines' too); the function it returns,
// called after the benchmark's loop, reports it per op as cpu-ns/op. On a
// machine shared with other work that is a steadier measure of cost than
// ns/op, which counts the time others took.
func cpuMeter(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

// cpuTime is the process's CPU time so far, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkIntrospect measures /oauth2/introspect in-process, for
// profiling: the caller authenticates with HTTP Basic and asks about an
// access token of its own org, both cached, as a resource server does
// on each request: go test -bench Introspect -cpuprofile cpu.out ./server
func BenchmarkIntrospect(b *testing.B) {
	env := stacktest.New(b, stacktest.Options{})
	h := env.Handler
	form := url.Values{"token": {accessTokenOf(b, h, env.Account.ID, env.Secret)}}.Encode()
	b.ReportAllocs()
	defer cpuMeter(b)()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/oauth2/introspect", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(env.Account.ID, env.Secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"active":true`) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
