// Command admin-client provisions a service account with Tollgate's Go
// client: it creates the account, rotates its secret (the first one keeps
// working for a grace period, as a deployment rolling over would need),
// and issues it a private API token.
//
//	export TOLLGATE_SERVER=https://tollgate.example.com
//	export TOLLGATE_TOKEN=tgc_…   # from "tollgate login": acts as you, a super_admin
//	go run ./examples/admin-client --org acme --name ci-runner
//
// The secrets it prints are shown by the server only once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tollgate/tollgate/client"
)

func main() {
	org := flag.String("org", "acme", "the organization's slug")
	name := flag.String("name", "ci-runner", "the new service account's name")
	flag.Parse()
	c, err := client.New(os.Getenv("TOLLGATE_SERVER"), os.Getenv("TOLLGATE_TOKEN"))
	if err == nil {
		err = provision(context.Background(), c, *org, *name, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin-client:", err)
		os.Exit(1)
	}
}

// provision creates the service account name in org with a rotated secret
// and a private API token, and prints what a deployment needs.
func provision(ctx context.Context, c *client.Admin, org, name string, w io.Writer) error {
	sa, err := c.CreateServiceAccount(ctx, org, client.NewServiceAccount{
		Name: name, Description: "provisioned by examples/admin-client", Role: client.CredentialRoleMember, TokenTTL: time.Hour,
	})
	var e *client.Error
	if errors.As(err, &e) && e.Code == client.ProblemCodeConflict {
		return fmt.Errorf("a service account named %q exists already in %s", name, org)
	} else if err != nil {
		return err
	}
	rot, err := c.RotateSecret(ctx, org, sa.Id, 5*time.Minute)
	if err != nil {
		return err
	}
	tok, err := c.CreateAPIToken(ctx, org, client.NewAPIToken{Name: name + "-token", ServiceAccountID: sa.Id, Kind: client.APITokenKindPrivate})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "service account %s (%s)\n", sa.Name, sa.Id)
	fmt.Fprintf(w, "token endpoint  %s\n", sa.TokenEndpoint)
	fmt.Fprintf(w, "client id       %s\n", rot.ClientId)
	fmt.Fprintf(w, "client secret   %s\n", rot.ClientSecret)
	fmt.Fprintf(w, "api token       %s (%s)\n", tok.Token, tok.Id)
	return nil
}
