package credential

import (
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"strings"
)

// Prefixes of the credentials Tollgate issues (C5). Secret scanners match
// them, and a person can tell at a glance what leaked.
const (
	PrefixClientSecret = "tgs_"
	PrefixPrivateToken = "tgp_"
	PrefixPublicToken  = "tgq_"
	// PrefixCLISession is a person's credential at the command line: a
	// CLI session's, from `tollgate login`.
	PrefixCLISession = "tgc_"
)

const (
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	payloadLen   = 43 // 32 random bytes in base62
	checksumLen  = 6  // CRC-32 in base62
	credentialSz = payloadLen + checksumLen
)

// NewCredential returns prefix followed by 256 random bits and a checksum,
// all in base62 (no characters that break a double-click selection):
// for example "tgs_" + 43 + 6 characters.
func NewCredential(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return CredentialOf(prefix, b)
}

// CredentialOf is the credential NewCredential makes of the 256 bits b.
// Only a seed that must make the same credentials again (the benchmark's,
// whose load presents them) calls it with bits that are not random.
func CredentialOf(prefix string, b [32]byte) string {
	payload := encode62(new(big.Int).SetBytes(b[:]), payloadLen)
	return prefix + payload + checksum(prefix+payload)
}

// ValidCredential reports whether s is a well-formed credential with that
// prefix and a correct checksum. It needs no database: a typo or a truncated
// copy is refused here. It allocates nothing: every client secret and new
// bearer string presented is checked with it.
func ValidCredential(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != credentialSz {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !isBase62[body[i]] {
			return false
		}
	}
	sum := checksumOf(prefix, body[:payloadLen])
	return string(sum[:]) == body[payloadLen:]
}

// isBase62 marks the bytes of base62.
var isBase62 = func() (t [256]bool) {
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = true
	}
	return t
}()

func checksum(s string) string {
	sum := checksumOf(s, "")
	return string(sum[:])
}

// checksumOf is the CRC-32 of prefix+payload in base62, left-padded with
// '0' to checksumLen digits (62^6 > 2^32: every CRC fits).
func checksumOf(prefix, payload string) [checksumLen]byte {
	crc := crcUpdate(crcUpdate(0, prefix), payload)
	var out [checksumLen]byte
	n := uint64(crc)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

// crcUpdate is crc32.Update with the IEEE table over a string, byte by
// byte: the strings are short, and a conversion to []byte would allocate.
func crcUpdate(crc uint32, s string) uint32 {
	crc = ^crc
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

// encode62 writes n in base62, left-padded with '0' to width.
func encode62(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
