package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tollgate/tollgate/client"
)

// A service account for a CI pipeline, with a token, provisioned by a
// person's "tollgate login" credential (only a super_admin manages
// service accounts). examples/admin-client is the same as a program.
func Example() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("TOLLGATE_SERVER"), os.Getenv("TOLLGATE_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	sa, err := c.CreateServiceAccount(ctx, "acme", client.NewServiceAccount{Name: "ci-runner", Role: client.CredentialRoleMember, TokenTTL: time.Hour})
	var e *client.Error
	if errors.As(err, &e) && e.Field == "name" {
		log.Fatalf("choose another name: %s", e.Detail)
	} else if err != nil {
		log.Fatal(err)
	}
	tok, err := c.CreateAPIToken(ctx, "acme", client.NewAPIToken{Name: "ci", ServiceAccountID: sa.Id, Kind: client.APITokenKindPrivate})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sa.ClientId, sa.ClientSecret, tok.Token)
}

// Every generated operation is reachable, read with Decode.
func ExampleDecode() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("TOLLGATE_SERVER"), os.Getenv("TOLLGATE_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	disabled, err := client.Decode[client.ServiceAccount](c.DisableServiceAccount(ctx, "acme", "sa_01jq8x0000000000000000000"))
	if client.HasCode(err, client.ProblemCodeNotFound) {
		log.Fatal("no such account in acme")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(disabled.Status)
}
