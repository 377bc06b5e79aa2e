package keys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/keys"
	"github.com/tollgate/tollgate/store/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func setup(t *testing.T) (*keys.Manager, tollgate.Store, *clock) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	kr, _ := credential.NewKeyring(bytes.Repeat([]byte{7}, 32))
	c := &clock{now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	return keys.New(s, kr, c), s, c
}

// verify checks a JWS against a JWK Set document with go-jose, a library
// independent of the one that signed it.
func verify(t *testing.T, jwks []byte, token string) (kid string, payload []byte) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	sig, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := sig.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "at+jwt" {
		t.Fatalf("typ = %v", h.ExtraHeaders["typ"])
	}
	ks := set.Key(h.KeyID)
	if len(ks) != 1 || ks[0].Algorithm != "EdDSA" || ks[0].Use != "sig" {
		t.Fatalf("kid %s published as %+v", h.KeyID, ks)
	}
	payload, err = sig.Verify(ks[0].Key)
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	return h.KeyID, payload
}

func sign(m *keys.Manager, payload []byte) (string, string, error) {
	s, err := m.Signer(context.Background())
	if err != nil {
		return "", "", err
	}
	tok, err := s.Sign(payload)
	return tok, s.KeyID(), err
}

func TestSignAndRotate(t *testing.T) {
	m, s, c := setup(t)
	ctx := t.Context()
	tok1, kid1, err := sign(m, []byte(`{"sub":"sa_1"}`))
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := m.JWKS(ctx)
	if kid, payload := verify(t, jwks, tok1); kid != kid1 || string(payload) != `{"sub":"sa_1"}` {
		t.Fatalf("kid %s payload %s", kid, payload)
	}
	// Ed25519 is deterministic: the same claims sign to the same string.
	if again, _, _ := sign(m, []byte(`{"sub":"sa_1"}`)); again != tok1 {
		t.Fatal("signing is not deterministic")
	}

	if k, err := m.RotateIfDue(ctx, 24*time.Hour); err != nil || k != nil {
		t.Fatalf("RotateIfDue on a fresh key = %v, %v", k, err)
	}
	c.Add(25 * time.Hour)
	k2, err := m.RotateIfDue(ctx, 24*time.Hour)
	if err != nil || k2 == nil {
		t.Fatalf("RotateIfDue on an old key = %v, %v", k2, err)
	}
	tok2, kid2, _ := sign(m, []byte(`{"sub":"sa_2"}`))
	if kid2 != k2.ID || kid2 == kid1 {
		t.Fatalf("after rotation signs with %s, want %s", kid2, k2.ID)
	}
	jwks, _ = m.JWKS(ctx)
	verify(t, jwks, tok1) // the old key is still published
	verify(t, jwks, tok2)

	// Thirty days after retirement the old key leaves the set.
	c.Add(30*24*time.Hour + time.Minute)
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.PublicKey(ctx, kid1); ok {
		t.Fatal("a key retired 30 days ago is still published")
	}
	if _, ok, _ := m.PublicKey(ctx, kid2); !ok {
		t.Fatal("the key retired just now is not published")
	}

	// Private keys are sealed at rest.
	rows, _ := s.ListSigningKeys(ctx)
	for _, r := range rows {
		if len(r.PrivateSealed) < 32 || bytes.Contains(r.PrivateSealed, r.PublicKey) {
			t.Fatal("private key not sealed")
		}
	}
	other, _ := credential.NewKeyring(bytes.Repeat([]byte{8}, 32))
	if err := keys.New(s, other, c).Load(ctx); err == nil {
		t.Fatal("keys opened with another key file")
	}
}

func TestReplicasShareTheKey(t *testing.T) {
	m, s, c := setup(t)
	kr, _ := credential.NewKeyring(bytes.Repeat([]byte{7}, 32))
	other := keys.New(s, kr, c)
	_, kid1, err := sign(m, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, kid2, err := sign(other, []byte(`{}`))
	if err != nil || kid2 != kid1 {
		t.Fatalf("replicas sign with %s and %s", kid1, kid2)
	}
	k, _ := m.Rotate(t.Context())
	// The other replica learns of the new key on first sight of its kid.
	c.Add(2 * time.Second)
	if _, ok, err := other.PublicKey(t.Context(), k.ID); !ok || err != nil {
		t.Fatalf("other replica does not know the rotated key: %v", err)
	}
}
