// Package josetest makes keys and signs JWTs for tests, with go-jose: a
// library independent of the one Tollgate verifies with, so that a test
// never checks Tollgate against itself. It signs client assertions
// (RFC 7523), DPoP proofs (RFC 9449) and arbitrary JWTs, including broken
// ones for attacks.
package josetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Key is a private key with its algorithm and kid. Its methods are safe
// for concurrent use.
type Key struct {
	Alg     string
	KeyID   string
	Private crypto.Signer
}

// NewKey makes a key for alg: EdDSA (Ed25519), ES256 (P-256), RS256 or
// PS256 (RSA of bits, 2048 when bits is 0), with kid (may be "").
func NewKey(alg, kid string, bits int) *Key {
	var priv crypto.Signer
	var err error
	switch alg {
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "RS256", "PS256":
		if bits == 0 {
			bits = 2048
		}
		priv, err = rsa.GenerateKey(rand.Reader, bits)
	default:
		panic("josetest: unknown alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	return &Key{Alg: alg, KeyID: kid, Private: priv}
}

// PublicJWK returns the public key as a JWK, with kid and alg when set.
func (k *Key) PublicJWK() []byte {
	j := jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.KeyID, Algorithm: k.Alg, Use: "sig"}
	b, err := j.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

// PrivateJWK returns the private key as a JWK: what must be refused.
func (k *Key) PrivateJWK() []byte {
	b, err := (&jose.JSONWebKey{Key: k.Private, KeyID: k.KeyID, Algorithm: k.Alg}).MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key,
// base64url.
func (k *Key) Thumbprint() string {
	tp, err := (&jose.JSONWebKey{Key: k.Private.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// Sign returns a compact JWS of claims, with the key's kid (when set), typ
// (when not "") and extra header members.
func (k *Key) Sign(typ string, claims map[string]any, header map[string]any) string {
	return k.sign(k.KeyID, typ, claims, header)
}

// sign is Sign with the kid given ("" for none). Safe for concurrent use.
func (k *Key) sign(kid, typ string, claims map[string]any, header map[string]any) string {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	for name, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.Private}, opts)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// Assertion returns a private_key_jwt client assertion for clientID with
// audience aud, valid from now for life, with a random jti; over replaces
// claims (a nil value deletes one).
func (k *Key) Assertion(clientID, aud string, now time.Time, life time.Duration, over map[string]any) string {
	claims := map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "iat": now.Unix(), "exp": now.Add(life).Unix(), "jti": RandomID()}
	return k.Sign("", apply(claims, over), nil)
}

// Proof returns a DPoP proof (typ dpop+jwt, the public key in its jwk
// header) for method and uri at now; token, when not "", is hashed into
// ath. over replaces claims (nil deletes).
func (k *Key) Proof(method, uri, token string, now time.Time, over map[string]any) string {
	claims := map[string]any{"jti": RandomID(), "htm": method, "htu": uri, "iat": now.Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	var jwk map[string]any
	pub := &jose.JSONWebKey{Key: k.Private.Public()}
	b, _ := pub.MarshalJSON()
	_ = json.Unmarshal(b, &jwk)
	// A proof names its key by value, not by kid.
	return k.sign("", "dpop+jwt", apply(claims, over), map[string]any{"jwk": jwk})
}

// Unsigned returns claims as a JWT with alg none and no signature.
func Unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// HMAC returns claims signed HS256 with secret (the algorithm confusion
// attack signs with a public key's bytes).
func HMAC(secret []byte, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// RandomID is a random jti.
func RandomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func apply(claims, over map[string]any) map[string]any {
	for k, v := range over {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return claims
}
