package provider_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
)

// TestServiceAccountKey: register a key as a JWK or PEM; the same key
// written the other way changes only the state, another key replaces it;
// an expiry replaces it; import gives the stored JWK, which the
// configuration's form then matches without replacement; a deletion in
// the console leaves the state; destroy deletes.
func TestServiceAccountKey(t *testing.T) {
	eachStore(t, func(t *testing.T, s *stack) {
		ctx := t.Context()
		h := s.superAdmin(t)
		const typ = "tollgate_service_account_key"
		sa := h.create("tollgate_service_account", cfg{"name": "signer", "role": "viewer", "token_ttl_seconds": 600})
		id := sa.str("id")

		edPub, _, _ := ed25519.GenerateKey(rand.Reader)
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		for _, k := range []struct {
			alg string
			pub crypto.PublicKey
		}{{"EdDSA", edPub}, {"ES256", &ec.PublicKey}, {"RS256", &rsaKey.PublicKey}} {
			t.Run(k.alg, func(t *testing.T) {
				jwk, pemKey := jwkOf(t, k.pub), pemOf(t, k.pub)
				c := cfg{"service_account_id": id, "public_key": pemKey}
				key := h.create(typ, c)
				a := key.attrs()
				if a["alg"] != k.alg || a["thumbprint"] == "" || a["kid"] != a["thumbprint"] || a["id"] == "" || a["public_key"] != pemKey {
					t.Fatalf("created %v", a)
				}
				// The same key as a JWK: in place, the state only.
				c["public_key"] = jwk
				key, replaced := h.apply(key, c)
				if len(replaced) > 0 || key.str("public_key") != jwk {
					t.Fatalf("the same key as a JWK: replaced %v", replaced)
				}
				// Import holds the server's JWK, the same key.
				imported := h.importState(typ, "acme/"+id+"/"+key.str("id"))
				if ia := imported.attrs(); ia["thumbprint"] != a["thumbprint"] || ia["alg"] != k.alg || !strings.HasPrefix(imported.str("public_key"), "{") {
					t.Fatalf("imported %v", ia)
				}
				if p := h.plan(typ, imported, cfg{"service_account_id": id, "public_key": pemKey}); len(p.replace) > 0 {
					t.Fatalf("the plan after import replaces %v", p.replace)
				}
				h.destroy(key)
			})
		}

		// Another key replaces; so does an expiry. The old key is deleted.
		c := cfg{"service_account_id": id, "public_key": jwkOf(t, edPub)}
		key := h.create(typ, c)
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		c["public_key"] = jwkOf(t, other)
		old := key.str("id")
		key, replaced := h.apply(key, c)
		if len(replaced) != 1 || replaced[0] != "public_key" || key.str("id") == old {
			t.Fatalf("another key: replaced %v", replaced)
		}
		c["expires_at"] = time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		key, replaced = h.apply(key, c)
		if len(replaced) != 1 || replaced[0] != "expires_at" || key.str("expires_at") != c["expires_at"] {
			t.Fatalf("an expiry: replaced %v, %v", replaced, key.attrs())
		}
		l, err := client.Decode[client.ClientKeyList](s.admin.ListServiceAccountKeys(ctx, "acme", id))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 1 || l.Items[0].Id != key.str("id") {
			t.Fatalf("the server has keys %+v, want only %s", l.Items, key.str("id"))
		}

		// Deleted in the console: Read removes it; so does the account's
		// deletion.
		if err := client.NoContent(s.admin.DeleteServiceAccountKey(ctx, "acme", id, key.str("id"))); err != nil {
			t.Fatal(err)
		}
		if !h.refresh(key) {
			t.Fatal("Read kept a deleted key")
		}
		key = h.create(typ, c)
		h.destroy(sa)
		if !h.refresh(key) {
			t.Fatal("Read kept the key of a deleted account")
		}

		// Refusals: a private key, with the server's detail on the
		// attribute.
		sa = h.create("tollgate_service_account", cfg{"name": "signer", "role": "viewer", "token_ttl_seconds": 600})
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		_, diags := h.tryCreate(typ, cfg{"service_account_id": sa.str("id"), "public_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
		wantDiag(t, diags, "[public_key]", "private key", `code "invalid"`)
		_, diags = h.tryImport(typ, "only-one-part")
		wantDiag(t, diags, "Invalid import ID")
	})
}

// jwkOf writes a public key as a JWK, with a use member the server does
// not keep.
func jwkOf(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	var m map[string]string
	switch k := pub.(type) {
	case ed25519.PublicKey:
		m = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k)}
	case *ecdsa.PublicKey:
		raw, _ := k.Bytes()
		m = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case *rsa.PublicKey:
		m = map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	}
	m["use"] = "sig"
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pemOf writes a public key as a PEM "PUBLIC KEY".
func pemOf(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
