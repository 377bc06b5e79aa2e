package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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
