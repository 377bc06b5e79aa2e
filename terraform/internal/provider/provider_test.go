package provider_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// TestMachineCredential: an admin-role API token, or an access token of
// an admin-role account, acts with that role: it reads service accounts
// (the data source) but may not create one, and the error says why and
// what credential to use. A credential the server does not know is
// refused as unauthenticated.
func TestMachineCredential(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		robot := s.account(t, "robot", client.CredentialRoleAdmin)
		apiToken, err := s.admin.CreateAPIToken(ctx, "acme", client.NewAPIToken{Name: "terraform", ServiceAccountID: robot.Id, Kind: client.APITokenKindPrivate})
		if err != nil {
			t.Fatal(err)
		}
		if apiToken.Role != client.CredentialRoleAdmin {
			t.Fatalf("the token's role is %s", apiToken.Role)
		}
		access := s.exchange(t, robot.Id, robot.ClientSecret)
		for name, token := range map[string]string{"API token": apiToken.Token, "access token": access.AccessToken} {
			t.Run(name, func(t *testing.T) {
				h := configured(t, cfg{"server": s.url, "token": token, "organization": "acme"})
				got, diags := h.readData("tollgate_service_account", cfg{"name": "robot"})
				if err := diagErrors(diags); err != nil {
					t.Fatalf("an admin credential cannot read an account: %v", err)
				}
				if got["id"] != robot.Id || got["role"] != "admin" {
					t.Fatalf("read %v", got)
				}
				_, diags = h.tryCreate("tollgate_service_account", cfg{"name": "made-by-robot", "role": "viewer", "token_ttl_seconds": 300})
				wantDiag(t, diags, "Cannot create the service account", `Tollgate answered 403, code "forbidden"`, "super_admin", "tollgate login")
				_, diags = h.tryCreate("tollgate_api_token", cfg{"name": "x", "service_account_id": robot.Id, "kind": "private"})
				wantDiag(t, diags, "Cannot create the API token", `code "forbidden"`)
			})
		}
		h := configured(t, cfg{"server": s.url, "token": stacktest.UnknownAPIToken(), "organization": "acme"})
		_, diags := h.tryCreate("tollgate_service_account", cfg{"name": "nope", "role": "viewer", "token_ttl_seconds": 300})
		wantDiag(t, diags, `code "unauthenticated"`, "TOLLGATE_TOKEN")
	})
}

// TestProviderConfig: missing or malformed settings fail with an error on
// the attribute; each setting falls back to its environment variable; a
// resource without an organization, in a provider without one, fails at
// plan.
func TestProviderConfig(t *testing.T) {
	env := stacktest.New(t, options)
	s := serve(t, env)
	t.Setenv("TOLLGATE_SERVER", "")
	t.Setenv("TOLLGATE_TOKEN", "")
	t.Setenv("TOLLGATE_ORG", "")

	for _, tc := range []struct {
		name string
		c    cfg
		want []string
	}{
		{"no server", cfg{"token": "tgp_x"}, []string{"Missing Tollgate server [server]", "TOLLGATE_SERVER"}},
		{"no token", cfg{"server": s.url}, []string{"Missing Tollgate token [token]", "TOLLGATE_TOKEN"}},
		{"not http", cfg{"server": "ftp://tollgate.example.com", "token": "tgp_x"}, []string{"Invalid Tollgate server [server]", "http or https"}},
		{"no host", cfg{"server": "https://", "token": "tgp_x"}, []string{"Invalid Tollgate server [server]", "no host"}},
		{"query", cfg{"server": "https://tollgate.example.com/?a=b", "token": "tgp_x"}, []string{"[server]", "base URL"}},
		{"line break", cfg{"server": s.url, "token": "tgp_x\nX-Evil: 1"}, []string{"Invalid Tollgate token [token]", "line break"}},
		{"unknown token", cfg{"server": s.url, "token": unknown}, []string{"Unknown Tollgate token [token]", "known only after apply"}},
		{"unknown server", cfg{"server": unknown, "token": "tgp_x"}, []string{"Unknown Tollgate server [server]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDiag(t, newTF(t).configure(tc.c), tc.want...)
		})
	}

	// A bad value in the environment is as bad as in the configuration.
	t.Run("bad TOLLGATE_SERVER", func(t *testing.T) {
		t.Setenv("TOLLGATE_SERVER", "tollgate.example.com")
		wantDiag(t, newTF(t).configure(cfg{"token": "tgp_x"}), "Invalid Tollgate server [server]")
	})

	// Everything from the environment: server, token and organization.
	t.Run("environment", func(t *testing.T) {
		robot := s.account(t, "env-robot", client.CredentialRoleAdmin)
		tok, err := s.admin.CreateAPIToken(t.Context(), "acme", client.NewAPIToken{Name: "env", ServiceAccountID: robot.Id, Kind: client.APITokenKindPrivate})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("TOLLGATE_SERVER", s.url+"/")
		t.Setenv("TOLLGATE_TOKEN", tok.Token)
		t.Setenv("TOLLGATE_ORG", "acme")
		h := configured(t, cfg{})
		got, diags := h.readData("tollgate_service_account", cfg{"id": robot.Id})
		if err := diagErrors(diags); err != nil {
			t.Fatal(err)
		}
		if got["organization"] != "acme" || got["name"] != "env-robot" {
			t.Fatalf("read %v", got)
		}
	})

	// No organization anywhere: the plan says where to set one; a
	// resource's own organization is enough.
	t.Run("no organization", func(t *testing.T) {
		h := configured(t, cfg{"server": s.url}, providerSession(t, s))
		p := h.plan("tollgate_service_account", nil, cfg{"name": "x", "role": "viewer", "token_ttl_seconds": 300})
		wantDiag(t, p.diags, "Missing organization [organization]", "TOLLGATE_ORG")
		_, diags := h.readData("tollgate_service_account", cfg{"name": "fuzz"})
		wantDiag(t, diags, "Missing organization [organization]")
		sa := h.create("tollgate_service_account", cfg{"organization": "acme", "name": "own-org", "role": "viewer", "token_ttl_seconds": 300})
		if sa.str("organization") != "acme" {
			t.Fatalf("created %v", sa.attrs())
		}
		_, diags = h.tryImport("tollgate_service_account", sa.str("id"))
		wantDiag(t, diags, "Invalid import ID", "names no organization")
		imported := h.importState("tollgate_service_account", "acme/"+sa.str("id"))
		if imported.str("name") != "own-org" {
			t.Fatalf("imported %v", imported.attrs())
		}
	})

	// The provider's organization changing moves nothing: the resource
	// is replaced in the other organization.
	t.Run("organization changes", func(t *testing.T) {
		if _, err := client.Decode[client.Org](s.admin.CreateOrg(t.Context(), client.CreateOrgJSONRequestBody{Slug: "beta", Name: "Beta"})); err != nil {
			t.Fatal(err)
		}
		h := s.superAdmin(t)
		c := cfg{"name": "mover", "role": "viewer", "token_ttl_seconds": 300}
		sa := h.create("tollgate_service_account", c)
		c["organization"] = unknown
		if p := h.plan("tollgate_service_account", sa, c); len(p.replace) != 1 || p.replace[0] != "organization" {
			t.Fatalf("an organization known only at apply: replace %v", p.replace)
		}
		c["organization"] = "beta"
		moved, replaced := h.apply(sa, c)
		if len(replaced) != 1 || replaced[0] != "organization" || moved.str("organization") != "beta" {
			t.Fatalf("moving organizations: replaced %v, %v", replaced, moved.attrs())
		}
		if _, err := client.Decode[client.ServiceAccount](s.admin.GetServiceAccount(t.Context(), "acme", sa.str("id"))); !client.HasCode(err, client.ProblemCodeNotFound) {
			t.Fatalf("the account in acme is still there: %v", err)
		}
	})
}

// TestServiceAccountDataSource: by ID, by name ignoring case; exactly one
// of them; a missing account is an error.
func TestServiceAccountDataSource(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		h := s.superAdmin(t)
		sa := h.create("tollgate_service_account", cfg{"name": "Lookup", "description": "found", "role": "member", "token_ttl_seconds": 900, "disabled": true, "require_dpop": true})
		s.exchange(t, s.env.Account.ID, s.env.Secret) // the stack's own account, now used
		for _, c := range []cfg{{"id": sa.str("id")}, {"name": "lookup"}, {"name": "LOOKUP", "organization": "acme"}} {
			got, diags := h.readData("tollgate_service_account", c)
			if err := diagErrors(diags); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"id", "name", "description", "role", "token_ttl_seconds", "client_id", "email", "token_endpoint", "status", "created_at", "created_by", "disabled", "require_dpop"} {
				if fmtValue(got[name]) != fmtValue(sa.attrs()[name]) {
					t.Fatalf("read by %v: %s = %v, want %v", c, name, got[name], sa.attrs()[name])
				}
			}
			if got["last_used_at"] != nil {
				t.Fatalf("an unused account has last_used_at %v", got["last_used_at"])
			}
		}
		_, diags := h.readData("tollgate_service_account", cfg{"id": sa.str("id"), "name": "Lookup"})
		wantDiag(t, diags, "Invalid Attribute Combination")
		_, diags = h.readData("tollgate_service_account", cfg{})
		wantDiag(t, diags, "Exactly one of these attributes must be configured: [id,name]")
		_, diags = h.readData("tollgate_service_account", cfg{"name": "nobody"})
		wantDiag(t, diags, "Cannot read the service account", "no service account named nobody", `code "not_found"`)
		_, diags = h.readData("tollgate_service_account", cfg{"id": "sa_00000000000000000000000000"})
		wantDiag(t, diags, `code "not_found"`)
		// last_used_at comes within the server's usage flush.
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, _ := h.readData("tollgate_service_account", cfg{"id": s.env.Account.ID})
			if got["last_used_at"] != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("last_used_at stayed null")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// TestLoginCredential: a super admin's `tollgate login` credential (tgc_,
// from the device grant, approved on the console's /device page) is the
// provider's token: it manages service accounts, and the audit log says
// the person did it via CLI.
func TestLoginCredential(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		h := configured(t, cfg{"server": s.url, "token": s.login(t), "organization": "acme"})
		sa := h.create("tollgate_service_account", cfg{"name": "by-login", "role": "member", "token_ttl_seconds": 600})
		h.wantNoChanges(sa, cfg{"name": "by-login", "role": "member", "token_ttl_seconds": 600})
		var found bool
		for ev, err := range s.admin.AuditEvents(t.Context(), "acme", client.ListAuditEventsParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Action == "service_account.created" && ev.Target.Id == sa.str("id") {
				found = ev.Actor.Name == "admin@example.com" && fmt.Sprint(ev.Details["via"]) == "cli"
				break
			}
		}
		if !found {
			t.Fatal("the account's creation is not audited as the person via CLI")
		}
		h.destroy(sa)
	})
}

// login signs the super admin in at the command line as `tollgate login`
// does, approving the code with a console session, and returns the tgc_
// credential.
func (s *stack) login(t *testing.T) string {
	t.Helper()
	post := func(hc *http.Client, path string, form url.Values) map[string]any {
		resp, err := hc.PostForm(s.url+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, v)
		}
		return v
	}
	da := post(http.DefaultClient, "/oauth2/device_authorization", url.Values{"client_id": {"tollgate-cli"}})
	post(s.session(t), "/device", url.Values{"user_code": {da["user_code"].(string)}, "action": {"approve"}})
	tok := post(http.DefaultClient, "/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {"tollgate-cli"}, "device_code": {da["device_code"].(string)}})
	return tok["access_token"].(string)
}
