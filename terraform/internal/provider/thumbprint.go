package provider

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// thumbprint returns the RFC 7638 SHA-256 thumbprint (base64url) of a
// public key given as a JWK or a PEM "PUBLIC KEY" block, as the server
// computes it for a key it registers. The key resource compares
// thumbprints, not text, to tell whether a configured key is the one in
// the state: the server stores a JWK of its own making, so an imported
// key's JWK differs in text from the configuration that names it.
func thumbprint(key string) (string, error) {
	key = strings.TrimSpace(key)
	var members map[string]string
	var err error
	if strings.HasPrefix(key, "-----BEGIN") {
		members, err = pemMembers(key)
	} else {
		members, err = jwkMembers(key)
	}
	if err != nil {
		return "", err
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order,
	// with no whitespace; encoding/json sorts map keys.
	canonical, err := json.Marshal(members)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// jwkMembers returns the members of a JWK that RFC 7638 §3.2 requires
// for its key type.
func jwkMembers(key string) (map[string]string, error) {
	var all map[string]any
	if err := json.Unmarshal([]byte(key), &all); err != nil {
		return nil, fmt.Errorf("not a JWK (a JSON object) or a PEM public key: %w", err)
	}
	kty, _ := all["kty"].(string)
	var required []string
	switch kty {
	case "OKP", "EC":
		required = []string{"crv", "kty", "x"}
		if kty == "EC" {
			required = append(required, "y")
		}
	case "RSA":
		required = []string{"e", "kty", "n"}
	default:
		return nil, fmt.Errorf("a JWK of kty %q: want OKP, EC or RSA", kty)
	}
	members := map[string]string{}
	for _, name := range required {
		v, ok := all[name].(string)
		if !ok {
			return nil, fmt.Errorf("the JWK has no %q member", name)
		}
		members[name] = v
	}
	return members, nil
}

// pemMembers returns the RFC 7638 members of a PEM "PUBLIC KEY".
func pemMembers(key string) (map[string]string, error) {
	block, _ := pem.Decode([]byte(key))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`not a PEM "PUBLIC KEY" block`)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return map[string]string{"crv": "Ed25519", "kty": "OKP", "x": b64(k)}, nil
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || X || Y, each the curve's size
		if err != nil {
			return nil, err
		}
		size := (len(raw) - 1) / 2
		return map[string]string{"crv": k.Curve.Params().Name, "kty": "EC", "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}, nil
	case *rsa.PublicKey:
		return map[string]string{"e": b64(big.NewInt(int64(k.E)).Bytes()), "kty": "RSA", "n": b64(k.N.Bytes())}, nil
	}
	return nil, fmt.Errorf("a %T public key: want Ed25519, ECDSA or RSA", pub)
}
