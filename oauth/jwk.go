package oauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/tollgate/tollgate"
)

// The JWS algorithms accepted for client assertions, federated tokens and
// DPoP proofs (K1, K3): asymmetric only, so that "none" and every HMAC
// algorithm are refused by construction.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	AlgPS256 = "PS256"
	// AlgEd25519 is EdDSA with Ed25519 under its fully-specified name
	// (RFC 9864 §2.2, which deprecates "EdDSA"): WebCrypto exports Ed25519
	// JWKs with it, and clients such as oauth4webapi sign with it. It is
	// accepted wherever EdDSA is, for the same keys; a registered key's
	// alg is still stored and shown as EdDSA.
	AlgEd25519 = "Ed25519"
)

// SigningAlgorithms lists them, as the metadata does.
var SigningAlgorithms = []string{AlgEdDSA, AlgEd25519, AlgES256, AlgRS256, AlgPS256}

// fits reports whether a JWS signed with alg can be verified by a key
// whose algorithm is keyAlg: the same one, or Ed25519 for an EdDSA key.
func fits(alg, keyAlg string) bool {
	return alg == keyAlg || (alg == AlgEd25519 && keyAlg == AlgEdDSA)
}

// MinRSABits is the smallest RSA modulus accepted (K1).
const MinRSABits = 2048

// maxJWKLength bounds a JWK or PEM document: a 4096-bit RSA key is well
// under it.
const maxJWKLength = 8192

// PublicKey is a parsed public signing key: a JWK (RFC 7517) narrowed to
// what Tollgate verifies with.
type PublicKey struct {
	// Key is the crypto key: ed25519.PublicKey, *ecdsa.PublicKey (P-256)
	// or *rsa.PublicKey.
	Key crypto.PublicKey
	// Alg is the one algorithm the key verifies: its JWK "alg", else the
	// only one its type allows (EdDSA for Ed25519, ES256 for P-256), and
	// RS256 for an RSA key without "alg".
	Alg string
	// KeyID is the JWK's "kid", else its thumbprint.
	KeyID string
	// Thumbprint is the RFC 7638 SHA-256 thumbprint, base64url: the key's
	// identity (a DPoP jkt, RFC 9449 §6.1).
	Thumbprint string
	// JWK is the public key's JWK, with only its public members (and kid
	// and alg), as stored and shown.
	JWK json.RawMessage
}

// ParsePublicKey reads a public key from a JWK (JSON object) or a PEM
// "PUBLIC KEY" block. It refuses, with an EInvalid error naming the rule
// and field "public_key": a private key, a symmetric key, an algorithm
// other than EdDSA, ES256, RS256 and PS256 (or one that does not fit the
// key type), an RSA key under 2048 bits, and a curve other than Ed25519 or
// P-256.
func ParsePublicKey(data []byte) (*PublicKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, tollgate.Invalidf("public_key", "public_key is required: a JWK (JSON object) or a PEM public key")
	}
	if len(data) > maxJWKLength {
		return nil, tollgate.Invalidf("public_key", "public_key is too long (at most %d bytes)", maxJWKLength)
	}
	var k jwk.Key
	var err error
	if bytes.HasPrefix(data, []byte("-----BEGIN")) {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, tollgate.Invalidf("public_key", "public_key is not a valid PEM block")
		}
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, tollgate.Invalidf("public_key", "this is a private key: register only the public key, and keep the private key with the workload")
		}
		if block.Type != "PUBLIC KEY" {
			return nil, tollgate.Invalidf("public_key", "a PEM public key must be a \"PUBLIC KEY\" block (SubjectPublicKeyInfo), not %q", block.Type)
		}
		k, err = jwk.ParseKey(data, jwk.WithPEM(true))
	} else {
		if !json.Valid(data) || data[0] != '{' {
			return nil, tollgate.Invalidf("public_key", "public_key must be a JWK (a JSON object) or a PEM public key")
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			return nil, tollgate.Invalidf("public_key", "public_key must be a JWK (a JSON object)")
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := members[private]; ok {
				if private == "k" {
					return nil, tollgate.Invalidf("public_key", "symmetric (oct) keys are not accepted: register an EdDSA, ES256, RS256 or PS256 public key")
				}
				return nil, tollgate.Invalidf("public_key", "this JWK holds a private key (member %q): register only the public key, and keep the private key with the workload", private)
			}
		}
		k, err = jwk.ParseKey(data)
	}
	if err != nil {
		return nil, tollgate.Invalidf("public_key", "public_key is not a valid key: %s", shortErr(err))
	}
	return publicKeyOf(k)
}

// ParseJWKSetKeys returns the usable signing keys of a JWK Set document
// (RFC 7517 §5), as an issuer publishes them: keys that are not for
// signatures, or that ParsePublicKey would refuse, are skipped.
func ParseJWKSetKeys(data []byte) ([]*PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %s", shortErr(err))
	}
	var out []*PublicKey
	for _, raw := range set.Keys {
		var use struct {
			Use string `json:"use"`
		}
		if json.Unmarshal(raw, &use) != nil || (use.Use != "" && use.Use != "sig") {
			continue
		}
		if k, err := ParsePublicKey(raw); err == nil {
			out = append(out, k)
		}
	}
	return out, nil
}

// publicKeyOf narrows a parsed JWK to a PublicKey.
func publicKeyOf(k jwk.Key) (*PublicKey, error) {
	if private, err := jwk.IsPrivateKey(k); err == nil && private {
		return nil, tollgate.Invalidf("public_key", "this is a private key: register only the public key, and keep the private key with the workload")
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, tollgate.Invalidf("public_key", "public_key is not a valid key: %s", shortErr(err))
	}
	declared := ""
	if a, ok := k.Algorithm(); ok {
		declared = a.String()
	}
	pk := &PublicKey{}
	switch key := raw.(type) {
	case ed25519.PublicKey:
		pk.Key, pk.Alg = key, AlgEdDSA
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return nil, tollgate.Invalidf("public_key", "elliptic-curve keys must be on P-256 (ES256)")
		}
		pk.Key, pk.Alg = key, AlgES256
	case *rsa.PublicKey:
		if key.N.BitLen() < MinRSABits {
			return nil, tollgate.Invalidf("public_key", "RSA keys must have at least %d bits (this one has %d)", MinRSABits, key.N.BitLen())
		}
		pk.Key, pk.Alg = key, AlgRS256
		if declared == AlgPS256 {
			pk.Alg = AlgPS256
		}
	case []byte:
		return nil, tollgate.Invalidf("public_key", "symmetric (oct) keys are not accepted: register an EdDSA, ES256, RS256 or PS256 public key")
	default:
		return nil, tollgate.Invalidf("public_key", "unsupported key type: register an EdDSA (Ed25519), ES256 (P-256), RS256 or PS256 (RSA) public key")
	}
	if declared != "" && !fits(declared, pk.Alg) {
		return nil, tollgate.Invalidf("public_key", "the key's alg %q is not accepted for this key type: use %s", declared, pk.Alg)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, tollgate.Invalidf("public_key", "public_key is not a valid key: %s", shortErr(err))
	}
	pk.Thumbprint = base64.RawURLEncoding.EncodeToString(tp)
	pk.KeyID = pk.Thumbprint
	if kid, ok := k.KeyID(); ok && kid != "" {
		if len(kid) > 200 || !tollgate.PlainText(kid) {
			return nil, tollgate.Invalidf("public_key", "the key's kid must be at most 200 characters of plain text")
		}
		pk.KeyID = kid
	}
	pub, err := k.PublicKey()
	if err != nil {
		return nil, tollgate.Invalidf("public_key", "public_key is not a valid key: %s", shortErr(err))
	}
	for _, name := range pub.Keys() {
		switch name {
		case "kty", "crv", "x", "y", "n", "e":
		default:
			_ = pub.Remove(name)
		}
	}
	_ = pub.Set(jwk.KeyIDKey, pk.KeyID)
	_ = pub.Set(jwk.AlgorithmKey, pk.Alg)
	if pk.JWK, err = json.Marshal(pub); err != nil {
		return nil, err
	}
	return pk, nil
}

// shortErr is a library error's message, cut to one short line.
func shortErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
