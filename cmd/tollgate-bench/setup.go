package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
)

// api is a signed-in admin client.
type api struct {
	base string
	http *http.Client
}

func (a *api) call(method, path string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

type account struct {
	ID     string `json:"id"`
	Secret string `json:"client_secret"`
}

func (a *api) newAccount(org, name string, ttl int) (account, error) {
	var acc account
	err := a.call("POST", "/api/v1/orgs/"+org+"/service-accounts", map[string]any{"name": name, "role": "viewer", "token_ttl_seconds": ttl}, &acc)
	return acc, err
}

func signIn(base string) (*api, error) {
	jar, _ := cookiejar.New(nil)
	a := &api{base: base, http: &http.Client{Jar: jar}}
	return a, a.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": adminPassword}, nil)
}

// newAPIToken creates a private API token owned by acc.
func (a *api) newAPIToken(acc account) (string, error) {
	var tok struct {
		Token string `json:"token"`
	}
	err := a.call("POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "bench", "service_account_id": acc.ID, "kind": "private"}, &tok)
	return tok.Token, err
}

// checkScenario calls /check with a bearer credential.
func checkScenario(name, base, bearer string) scenario {
	return scenario{name: name, req: func(int) request { return request{method: "GET", url: base + "/check", bearer: bearer} }}
}

// setUpCold prepares a Tollgate started with a cache TTL of 1 ns, where
// every /check verifies the credential from the database.
func setUpCold(base string) ([]scenario, error) {
	a, err := signIn(base)
	if err != nil {
		return nil, err
	}
	acc, err := a.newAccount("acme", "bench-cold", 3600)
	if err != nil {
		return nil, err
	}
	tok, err := a.newAPIToken(acc)
	if err != nil {
		return nil, err
	}
	return []scenario{checkScenario("/check, API token, cold cache", base, tok)}, nil
}

// setUp signs in as the bootstrap admin and creates what the scenarios
// need: an account whose token is reused; in an org whose reuse floor
// equals the token lifetime (so that every request mints, DESIGN.md T2a),
// one account per connection; an account that introspects; and an API
// token for /check. Their names end in tag, which keeps them apart from
// an earlier run's on the same database.
func setUp(base string, maxConns int, tag string) ([]scenario, error) {
	a, err := signIn(base)
	if err != nil {
		return nil, err
	}
	reuse, err := a.newAccount("acme", "bench-reuse"+tag, 3600)
	if err != nil {
		return nil, err
	}
	apiToken, err := a.newAPIToken(reuse)
	if err != nil {
		return nil, err
	}
	caller, err := a.newAccount("acme", "bench-intro"+tag, 3600)
	if err != nil {
		return nil, err
	}
	mintOrg := "bench-mint" + tag
	if err := a.call("POST", "/api/v1/orgs", map[string]string{"slug": mintOrg, "name": "Minting benchmark"}, nil); err != nil {
		return nil, err
	}
	if err := a.call("PATCH", "/api/v1/orgs/"+mintOrg, map[string]any{"settings": map[string]int{"token_reuse_floor_seconds": 300}}, nil); err != nil {
		return nil, err
	}
	minters := make([]account, maxConns)
	for i := range minters {
		if minters[i], err = a.newAccount(mintOrg, fmt.Sprintf("minter-%d", i), 300); err != nil {
			return nil, err
		}
	}

	tokenURL := base + "/oauth2/token"
	post := func(acc account) string {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {acc.ID}, "client_secret": {acc.Secret}}.Encode()
	}
	resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {reuse.ID}, "client_secret": {reuse.Secret}})
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("no token for the reuse account")
	}
	reuseForm, introspectForm := post(reuse), url.Values{"token": {tok.AccessToken}}.Encode()
	return []scenario{
		{name: "token endpoint, reused token", req: func(int) request {
			return request{method: "POST", url: tokenURL, body: reuseForm, contentType: formType}
		}},
		{name: "token endpoint, minting", req: func(i int) request {
			return request{method: "POST", url: tokenURL, body: post(minters[i]), contentType: formType}
		}},
		{name: "introspection", req: func(int) request {
			return request{method: "POST", url: base + "/oauth2/introspect", body: introspectForm, contentType: formType, user: caller.ID, pass: caller.Secret}
		}},
		checkScenario("/check, API token", base, apiToken),
		checkScenario("/check, access token", base, tok.AccessToken),
	}, nil
}
