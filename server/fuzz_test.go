package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/internal/stacktest"
)

// newHandler builds the whole HTTP stack on a fresh SQLite database, with
// one service account whose credentials it returns.
func newHandler(t testing.TB) (http.Handler, string, string) {
	t.Helper()
	env := stacktest.New(t, stacktest.Options{})
	return env.Handler, env.Account.ID, env.Secret
}

// FuzzOAuthEndpoints sends arbitrary bodies, content types and
// Authorization headers to the token, introspection and revocation
// endpoints: the answer is never a 5xx and never a panic, and errors are
// RFC 6749 JSON.
func FuzzOAuthEndpoints(f *testing.F) {
	h, id, secret := newHandler(f)
	f.Add(uint8(0), "grant_type=client_credentials&client_id="+id+"&client_secret="+secret, "application/x-www-form-urlencoded", "")
	f.Add(uint8(0), "grant_type=client_credentials", "application/x-www-form-urlencoded", "Basic "+secret)
	f.Add(uint8(1), "token=eyJhbGciOiJFZERTQSJ9.e30.sig&client_id="+id+"&client_secret="+secret, "application/x-www-form-urlencoded", "")
	f.Add(uint8(2), "token=x", "application/x-www-form-urlencoded; charset=utf-8", "Basic Og==")
	f.Add(uint8(0), `{"grant_type":"client_credentials"}`, "application/json", "")
	f.Add(uint8(1), "%zz", "application/x-www-form-urlencoded", "Bearer x")
	paths := []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"}
	f.Fuzz(func(t *testing.T, which uint8, body, contentType, authorization string) {
		req := httptest.NewRequest("POST", paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", req.URL.Path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error":"`) {
			t.Fatalf("error without an RFC 6749 body: %d %s", rec.Code, rec.Body)
		}
		io.Copy(io.Discard, rec.Body)
	})
}

// FuzzCheck sends arbitrary Authorization, Origin and Referer headers to
// /check: the answer is always 200, 401 (with WWW-Authenticate) or 403,
// never a panic; and no answer but a 200 carries identity headers.
func FuzzCheck(f *testing.F) {
	h, _, _ := newHandler(f)
	f.Add("Bearer tgp_0000000000000000000000000000000000000000000000000", "https://a.example.com", "")
	f.Add("Bearer tgq_", "null", "https://a.example.com/x?y")
	f.Add("Bearer eyJhbGciOiJFZERTQSIsImtpZCI6IngiLCJ0eXAiOiJhdCtqd3QifQ.e30.AA", "", "")
	f.Add("Basic Og==", "https://*.a.com", "//x")
	f.Add("Bearer legacy-token-of-someone-0001", "http://[::1]:99999", "ftp://x/")
	f.Fuzz(func(t *testing.T, authorization, origin, referer string) {
		req := httptest.NewRequest("GET", "/check", nil)
		for k, v := range map[string]string{"Authorization": authorization, "Origin": origin, "Referer": referer} {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200:
		case 401:
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		case 403:
		default:
			t.Fatalf("/check answered %d: %s", rec.Code, rec.Body)
		}
		if rec.Code != 200 && rec.Header().Get("X-Tollgate-Subject") != "" {
			t.Fatal("identity headers on a refusal")
		}
	})
}
