package credential

import (
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"testing"
)

// TestChecksumUnchanged: the checksum is the one credentials were issued
// with, the CRC-32 of prefix and payload in six base62 digits, for
// payloads of every shape and for the CRC's extremes.
func TestChecksumUnchanged(t *testing.T) {
	ref := func(s string) string {
		return encode62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), checksumLen)
	}
	for range 2000 {
		var b [32]byte
		rand.Read(b[:])
		payload := encode62(new(big.Int).SetBytes(b[:]), payloadLen)
		if got, want := checksum(PrefixPrivateToken+payload), ref(PrefixPrivateToken+payload); got != want {
			t.Fatalf("checksum(%q) = %q, want %q", payload, got, want)
		}
		if sum := checksumOf(PrefixClientSecret, payload); string(sum[:]) != ref(PrefixClientSecret+payload) {
			t.Fatalf("checksumOf(%q) = %q", payload, sum)
		}
	}
	if got := encode62(new(big.Int).SetUint64(1<<32-1), checksumLen); got != "4gfFC3" {
		t.Fatalf("the largest CRC encodes as %q", got)
	}
}

func TestValidCredentialAllocates(t *testing.T) {
	s := NewCredential(PrefixClientSecret)
	if n := testing.AllocsPerRun(100, func() { ValidCredential(PrefixClientSecret, s) }); n != 0 {
		t.Fatalf("ValidCredential allocates %v times", n)
	}
}
