package credential_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/credential"
)

var cheap = credential.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	h := credential.HashPassword("correct horse battery staple", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not record its parameters", h)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"", false},
	} {
		ok, err := credential.VerifyPassword(c.pw, h)
		if err != nil || ok != c.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", c.pw, ok, err, c.want)
		}
	}
	if h2 := credential.HashPassword("correct horse battery staple", cheap); h2 == h {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyUsesRecordedParameters(t *testing.T) {
	// A hash made with other parameters still verifies: they are read from
	// the hash, not from the caller.
	h := credential.HashPassword("pw-pw-pw-pw-pw", credential.Argon2Params{Memory: 128, Time: 2, Threads: 2})
	if ok, err := credential.VerifyPassword("pw-pw-pw-pw-pw", h); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if ok, err := credential.VerifyPassword("x", h); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestTokens(t *testing.T) {
	a, ha := credential.NewToken()
	b, hb := credential.NewToken()
	if len(a) != 43 || a == b || bytes.Equal(ha, hb) {
		t.Fatalf("tokens %q %q are not 256 random bits", a, b)
	}
	if !bytes.Equal(credential.Hash(a), ha) {
		t.Fatal("Hash(token) differs from the hash NewToken returned")
	}
}

// TestKeyringHash: the keyed hash is HMAC-SHA256 under the derived key,
// the same from many goroutines at once (its HMAC states are pooled), and
// another master key gives another hash.
func TestKeyringHash(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	kr, err := credential.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	key, err := hkdf.Key(sha256.New, master, nil, "tollgate secret hash v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	want := func(s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				s := fmt.Sprintf("tgp_secret-%d-%d", g, i)
				if got := kr.Hash(s); !bytes.Equal(got, want(s)) {
					t.Errorf("Hash(%q) = %x, want %x", s, got, want(s))
				}
			}
		})
	}
	wg.Wait()
	other, _ := credential.NewKeyring(bytes.Repeat([]byte{8}, 32))
	if bytes.Equal(other.Hash("x"), kr.Hash("x")) {
		t.Fatal("two master keys hash alike")
	}
}
