package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestLeakReportAcrossReplicas: two processes on one PostgreSQL database,
// each with the token cached by a /check; a scanner reports it to one, and
// the other refuses it within a second (P3), as it does a leaked client
// secret's cached access token.
func TestLeakReportAcrossReplicas(t *testing.T) {
	db := databases(t)["postgres"](t)
	env := map[string]string{"TOLLGATE_KEY_FILE": newKeyFile(t), "TOLLGATE_ISSUER": "http://tollgate.test"}
	a := startProcess(t, db, env)
	b := startProcess(t, db, env)
	admin := newClient(t, a.URL)
	admin.signIn("admin@example.com", adminPassword)
	sa := newSA(t, admin, "acme", "leaky", 900, "viewer")
	id, secret := sa["id"].(string), sa["client_secret"].(string)
	tok := newToken(t, admin, "acme", id, "private")["token"].(string)
	access := token(t, b.URL, id, secret)["access_token"].(string)
	cb := newClient(t, b.URL)
	for _, bearer := range []string{tok, access} {
		cb.do("GET", "/check", nil, "Authorization", "Bearer "+bearer).want(t, 200)
	}
	reported := time.Now()
	got := newClient(t, a.URL).do("POST", "/api/v1/credentials/leaked", []map[string]string{
		{"token": tok, "type": "tollgate_api_token", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
		{"token": secret, "type": "tollgate_client_secret", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
	}).want(t, 200)
	var verdicts []map[string]any
	if err := json.Unmarshal(got.Body, &verdicts); err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 2 || verdicts[0]["label"] != "true_positive" || verdicts[1]["label"] != "true_positive" {
		t.Fatalf("verdicts: %v", verdicts)
	}
	for what, bearer := range map[string]string{"API token": tok, "access token": access} {
		for {
			r := cb.do("GET", "/check", nil, "Authorization", "Bearer "+bearer)
			if r.Status == 401 {
				t.Logf("%s refused by the other replica %v after the report", what, time.Since(reported).Round(time.Millisecond))
				break
			}
			if time.Since(reported) > time.Second {
				t.Fatalf("the other replica still accepts the leaked %s after 1 s: %s", what, r)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
