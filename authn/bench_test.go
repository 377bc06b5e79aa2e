package authn_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/stacktest"
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
