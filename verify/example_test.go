package verify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tollgate/tollgate/verify"
	"golang.org/x/oauth2/clientcredentials"
)

// A resource server accepts Tollgate's access tokens with the Middleware
// and reads the caller's identity from the request context. Here a small
// stand-in plays Tollgate (JWKS and token endpoint) so that the example
// runs on its own; in production Issuer is Tollgate's public URL.
func Example() {
	tollgate := startStandIn()
	defer tollgate.Close()

	v, err := verify.New(verify.Config{Issuer: tollgate.URL})
	if err != nil {
		panic(err)
	}
	api := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s of %s, you are %s", id.ServiceAccountID, id.OrgID, id.Role)
	}))
	resourceServer := httptest.NewServer(api)
	defer resourceServer.Close()

	// The caller: a service account with its client ID and secret.
	cc := clientcredentials.Config{ClientID: "sa_example", ClientSecret: "tgs_…", TokenURL: tollgate.URL + "/oauth2/token"}
	resp, err := cc.Client(context.Background()).Get(resourceServer.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello sa_example of org_example, you are viewer
}
