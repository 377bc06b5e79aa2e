package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/internal/stacktest"
	"golang.org/x/oauth2/clientcredentials"
)

// TestProvision runs the example against a real server, signed in as the
// super admin, and uses what it printed: the rotated secret gets an access
// token from the token endpoint with golang.org/x/oauth2, and the API
// token is accepted at /check.
func TestProvision(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	srv := httptest.NewServer(env.Handler)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	c, err := client.New(srv.URL, "", client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Decode[client.Session](c.SignIn(t.Context(), client.SignInJSONRequestBody{Email: "admin@example.com", Password: stacktest.AdminPassword})); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := provision(t.Context(), c, "acme", "ci-runner", &out); err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + ` +(\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no %s in\n%s", name, out.String())
		}
		return m[1]
	}
	cc := clientcredentials.Config{ClientID: field("client id"), ClientSecret: field("client secret"), TokenURL: srv.URL + "/oauth2/token"}
	if tok, err := cc.Token(context.Background()); err != nil || tok.AccessToken == "" {
		t.Fatalf("token with the printed secret: %v", err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/check", nil)
	req.Header.Set("Authorization", "Bearer "+field("api token"))
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != 200 {
		t.Fatalf("/check with the printed token: %d", rsp.StatusCode)
	}
	if err := provision(t.Context(), c, "acme", "ci-runner", &out); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("second run: %v", err)
	}
}
