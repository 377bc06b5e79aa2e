package credential_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/credential"
)

func TestCredentialFormat(t *testing.T) {
	s := credential.NewCredential(credential.PrefixClientSecret)
	if !strings.HasPrefix(s, "tgs_") || len(s) != 4+43+6 {
		t.Fatalf("secret %q has the wrong shape", s)
	}
	if !credential.ValidCredential(credential.PrefixClientSecret, s) {
		t.Fatal("a fresh secret does not validate")
	}
	if s2 := credential.NewCredential(credential.PrefixClientSecret); s2 == s {
		t.Fatal("two secrets are equal")
	}
	// Every single-character change is caught by the checksum or charset.
	for i := 4; i < len(s); i++ {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if credential.ValidCredential(credential.PrefixClientSecret, string(b)) {
			t.Fatalf("typo at %d accepted: %s", i, b)
		}
	}
	for _, bad := range []string{"", "tgs_", s[:len(s)-1], s + "0", "tgp_" + s[4:], strings.Replace(s, "tgs_", "TGS_", 1), s[:10] + "-" + s[11:]} {
		if credential.ValidCredential(credential.PrefixClientSecret, bad) {
			t.Errorf("ValidCredential(%q) = true", bad)
		}
	}
	if credential.ValidCredential(credential.PrefixPrivateToken, s) {
		t.Fatal("a secret passes as a private token")
	}
}

func TestKeyring(t *testing.T) {
	if _, err := credential.NewKeyring(make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte master key was accepted")
	}
	k1, err := credential.NewKeyring(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := credential.NewKeyring(bytes.Repeat([]byte{2}, 32))
	if bytes.Equal(k1.Hash("x"), k2.Hash("x")) || !bytes.Equal(k1.Hash("x"), k1.Hash("x")) || bytes.Equal(k1.Hash("x"), k1.Hash("y")) {
		t.Fatal("Hash is not keyed, or not deterministic")
	}
	sealed := k1.Seal([]byte("the token"), "at_1")
	if bytes.Contains(sealed, []byte("the token")) {
		t.Fatal("sealed data contains the plaintext")
	}
	if got, err := k1.Open(sealed, "at_1"); err != nil || string(got) != "the token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k1.Open(sealed, "at_2"); err == nil {
		t.Fatal("opened under another context")
	}
	if _, err := k2.Open(sealed, "at_1"); err == nil {
		t.Fatal("opened with another key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k1.Open(sealed, "at_1"); err == nil {
		t.Fatal("opened altered data")
	}
	if _, err := k1.Open([]byte("short"), "at_1"); err == nil {
		t.Fatal("opened a short input")
	}
}
