// Command private-key-jwt gets a Tollgate access token with no shared
// secret: it signs a client assertion (RFC 7523, private_key_jwt) with a
// private key whose public half is registered on the service account.
//
//	go run ./examples/private-key-jwt --keygen key.json        # once: prints the public JWK to register
//	go run ./examples/private-key-jwt --key key.json --issuer https://tollgate.example.com --client-id sa_…
//
// The token source signs a fresh assertion (new jti, exp one minute
// ahead) for every token request, and golang.org/x/oauth2 reuses the
// token it gets until it expires.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	keygen := flag.String("keygen", "", "write a new Ed25519 private key (a JWK) to this file and print its public JWK")
	keyFile := flag.String("key", "", "the private key file (a JWK)")
	issuer := flag.String("issuer", "http://127.0.0.1:8080", "Tollgate's issuer URL")
	clientID := flag.String("client-id", "", "the service account's client ID")
	flag.Parse()
	if err := run(*keygen, *keyFile, *issuer, *clientID); err != nil {
		fmt.Fprintln(os.Stderr, "private-key-jwt:", err)
		os.Exit(1)
	}
}

func run(keygen, keyFile, issuer, clientID string) error {
	if keygen != "" {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		key := jose.JSONWebKey{Key: priv, KeyID: "workload-1", Algorithm: string(jose.EdDSA), Use: "sig"}
		b, _ := key.MarshalJSON()
		if err := os.WriteFile(keygen, b, 0o600); err != nil {
			return err
		}
		pub, _ := key.Public().MarshalJSON()
		fmt.Printf("register this public key on the service account:\n{\"public_key\": %s}\n", pub)
		return nil
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	var key jose.JSONWebKey
	if err := json.Unmarshal(b, &key); err != nil {
		return err
	}
	ts := oauth2.ReuseTokenSource(nil, &assertionSource{key: key, issuer: issuer, clientID: clientID})
	tok, err := ts.Token()
	if err != nil {
		return err
	}
	fmt.Printf("token_type %s, expires %s\naccess_token %s\n", tok.TokenType, tok.Expiry.Format(time.RFC3339), tok.AccessToken)
	return nil
}

// assertionSource is an oauth2.TokenSource that authenticates each token
// request with a new client assertion.
type assertionSource struct {
	key              jose.JSONWebKey
	issuer, clientID string
}

func (s *assertionSource) Token() (*oauth2.Token, error) {
	tokenURL := s.issuer + "/oauth2/token"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.key.Algorithm), Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: s.clientID, Subject: s.clientID, Audience: jwt.Audience{tokenURL}, ID: hex.EncodeToString(jti),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{ClientID: s.clientID, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: map[string][]string{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
		}}
	return cc.Token(context.Background())
}
