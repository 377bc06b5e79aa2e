package provider_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestServiceAccountSecret: creating the resource rotates the secret and
// keeps the new one, which the token endpoint accepts; the secret the
// account was created with is discarded and stops at once; a change of
// keepers rotates again; grace_period_seconds changes in place; a
// rotation in the console removes the resource from the state; import
// adopts the account without its secret; destroy only forgets.
func TestServiceAccountSecret(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		const typ = "tollgate_service_account_secret"
		sa := h.create("tollgate_service_account", cfg{"name": "deployer", "role": "member", "token_ttl_seconds": 600})
		id := sa.str("id")

		c := cfg{"service_account_id": id, "keepers": map[string]string{"rotation": "1"}}
		sec := h.create(typ, c)
		a := sec.attrs()
		secret := sec.str("client_secret")
		if !strings.HasPrefix(secret, "tgs_") || a["client_id"] != id || a["id"] != id || a["grace_period_seconds"] != int64(0) ||
			sec.str("rotation_id") == "" || sec.str("rotated_at") == "" {
			t.Fatalf("created %v", a)
		}
		if !h.attribute(typ, "client_secret").Sensitive {
			t.Fatal("client_secret is not sensitive")
		}
		// The secret is exchanged at the token endpoint for an access
		// token that /check accepts.
		tok := s.exchange(t, id, secret)
		s.wantCheck(t, tok.AccessToken, 200, id)
		// A refresh keeps the secret, which the server never shows again.
		if h.refresh(sec) || sec.str("client_secret") != secret {
			t.Fatalf("refresh lost the secret: %v", sec.attrs())
		}

		// grace_period_seconds changes in place, for the next rotation.
		c = cfg{"service_account_id": id, "keepers": map[string]string{"rotation": "1"}, "grace_period_seconds": 3600}
		sec, replaced := h.apply(sec, c)
		if len(replaced) > 0 || sec.str("client_secret") != secret {
			t.Fatalf("a new grace period rotated (replaced %v)", replaced)
		}
		// A change of keepers rotates: the new secret works, and the old
		// one keeps working for the grace period.
		c = cfg{"service_account_id": id, "keepers": map[string]string{"rotation": "2"}, "grace_period_seconds": 3600}
		sec, replaced = h.apply(sec, c)
		if len(replaced) != 1 || replaced[0] != "keepers" || sec.str("client_secret") == secret {
			t.Fatalf("changing keepers: replaced %v, secret changed %v", replaced, sec.str("client_secret") != secret)
		}
		if exp := sec.str("previous_secret_expires_at"); exp == "" {
			t.Fatalf("no previous_secret_expires_at: %v", sec.attrs())
		} else if at, _ := time.Parse(time.RFC3339, exp); time.Until(at) < 59*time.Minute || time.Until(at) > 61*time.Minute {
			t.Fatalf("previous secret expires at %s, want in an hour", exp)
		}
		s.exchange(t, id, sec.str("client_secret"))
		s.exchange(t, id, secret)

		// Rotated in the console: the secret in the state is no longer
		// current, so Read removes the resource, with a warning, and the
		// next apply rotates again.
		if _, err := s.admin.RotateSecret(ctx, "acme", id, 0); err != nil {
			t.Fatal(err)
		}
		gone, diags := h.tryRefresh(sec)
		if !gone {
			t.Fatal("Read kept a secret that was rotated outside Terraform")
		}
		if len(diags) != 1 || !strings.Contains(diags[0].Summary, "rotated outside Terraform") || !strings.Contains(diags[0].Detail, "admin@example.com") {
			t.Fatalf("diagnostics %v", diagError(diags))
		}
		sec = h.create(typ, c)
		s.exchange(t, id, sec.str("client_secret"))

		// Import: the account's current secret, without its value.
		imported := h.importState(typ, "acme/"+id)
		ia := imported.attrs()
		if ia["client_secret"] != nil || ia["service_account_id"] != id || ia["rotation_id"] != sec.str("rotation_id") || ia["client_id"] != id {
			t.Fatalf("imported %v", ia)
		}
		h.wantNoChanges(imported, cfg{"service_account_id": id})
		_, diags = h.tryImport(typ, "acme/sa_00000000000000000000000000")
		wantDiag(t, diags, "non-existent")

		// Destroy forgets the secret; the account keeps it.
		h.destroy(sec)
		s.exchange(t, id, sec.str("client_secret"))

		// The account deleted: the secret leaves the state.
		sec = h.create(typ, c)
		h.destroy(sa)
		if !h.refresh(sec) {
			t.Fatal("Read kept the secret of a deleted account")
		}
		// A secret for an account that does not exist fails with the
		// server's detail.
		_, diags = h.tryCreate(typ, cfg{"service_account_id": id})
		wantDiag(t, diags, "Cannot rotate the service account's secret", `code "not_found"`)
		// The grace period is bounded.
		wantDiag(t, h.validate(typ, cfg{"service_account_id": id, "grace_period_seconds": 604801}), "[grace_period_seconds]")
	})
}

// TestDiscardedCreationSecret: the secret the server returns when the
// account is created is not kept, and the first rotation (grace 0) ends
// it at once, so only the secret resource's secret works.
func TestDiscardedCreationSecret(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		h := s.superAdmin(t)
		sa := h.create("tollgate_service_account", cfg{"name": "worker", "role": "viewer", "token_ttl_seconds": 300})
		for name, v := range sa.attrs() {
			if str, ok := v.(string); ok && strings.HasPrefix(str, "tgs_") {
				t.Fatalf("the account's state keeps a secret in %s", name)
			}
		}
		// Rotate behind Terraform's back with a grace period first, to
		// learn a secret the account had before the resource's.
		rot, err := s.admin.RotateSecret(t.Context(), "acme", sa.str("id"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		sec := h.create("tollgate_service_account_secret", cfg{"service_account_id": sa.str("id")})
		s.exchange(t, sa.str("id"), sec.str("client_secret"))
		if _, err := s.token(t, sa.str("id"), rot.ClientSecret); err == nil {
			t.Fatal("the secret before the resource's still works after a rotation with no grace period")
		}
	})
}

// exchange trades a client secret for an access token at the token
// endpoint, failing t if it is refused.
func (s *stack) exchange(t *testing.T, clientID, secret string) *oauth2.Token {
	t.Helper()
	tok, err := s.token(t, clientID, secret)
	if err != nil {
		t.Fatalf("the token endpoint refused the secret: %v", err)
	}
	return tok
}

func (s *stack) token(t *testing.T, clientID, secret string) (*oauth2.Token, error) {
	t.Helper()
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: s.url + "/oauth2/token"}
	tok, err := cc.Token(t.Context())
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "invalid_client" {
		t.Fatalf("the token endpoint answered %v", err)
	}
	return tok, err
}
