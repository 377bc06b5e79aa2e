package authn_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/oauth"
)

// BenchmarkClientFailure compares the two ways client authentication
// fails, which must cost the same so that timing does not tell which
// client IDs exist: a wrong secret for a known client, and an unknown
// client ID (answered by the negative cache after its first look-up).
//
//	go test -run X -bench ClientFailure ./authn
func BenchmarkClientFailure(b *testing.B) {
	env := stacktest.New(b, stacktest.Options{Limits: authn.Limits{Client: authn.Rate{N: 1 << 30, Per: time.Minute}}})
	unknown := stacktest.UnknownClientID()
	for _, c := range []struct{ name, id string }{{"wrong_secret", env.Account.ID}, {"unknown_client", unknown}} {
		b.Run(c.name, func(b *testing.B) {
			req := authn.Request{Door: "token", IP: "192.0.2.1",
				Form: url.Values{"client_id": {c.id}, "client_secret": {credential.NewCredential(credential.PrefixClientSecret)}}}
			for b.Loop() {
				if _, err := env.Authn.Client(b.Context(), req); err == nil {
					b.Fatal("a wrong secret authenticated")
				}
			}
		})
	}
}

// BenchmarkAssertionFailure compares a client assertion refused for an
// account with a key (signed by another key) with one for an unknown
// client and one naming a kid the account does not have: each costs one
// signature check, so that timing does not tell which client IDs exist.
func BenchmarkAssertionFailure(b *testing.B) {
	env := stacktest.New(b, stacktest.Options{Limits: authn.Limits{Client: authn.Rate{N: 1 << 30, Per: time.Minute}}})
	registered := josetest.NewKey("ES256", "k1", 0)
	if _, err := env.App.AddClientKey(b.Context(), env.Admin, "acme", env.Account.ID, app.ClientKeyInput{PublicKey: registered.PublicJWK()}); err != nil {
		b.Fatal(err)
	}
	const aud = stacktest.Issuer + "/oauth2/token"
	for _, c := range []struct {
		name, id string
		key      *josetest.Key
	}{
		{"wrong_key", env.Account.ID, josetest.NewKey("ES256", "k1", 0)},
		{"unknown_kid", env.Account.ID, josetest.NewKey("ES256", "k2", 0)},
		{"unknown_client", stacktest.UnknownClientID(), josetest.NewKey("ES256", "k1", 0)},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := authn.Request{Door: "token", IP: "192.0.2.1", Form: url.Values{"client_assertion_type": {oauth.AssertionTypeJWT},
				"client_assertion": {c.key.Assertion(c.id, aud, time.Now(), 9*time.Minute, nil)}}}
			for b.Loop() {
				if _, err := env.Authn.Client(b.Context(), req); err == nil {
					b.Fatal("a wrong assertion authenticated")
				}
			}
		})
	}
}
