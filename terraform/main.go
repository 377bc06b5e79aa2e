// Command terraform-provider-tollgate is Tollgate's Terraform provider
// plugin. Terraform starts it; run by hand with -debug it serves for a
// debugger and prints the TF_REATTACH_PROVIDERS value to use.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/tollgate/tollgate/terraform/internal/provider"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "serve for a debugger (delve) instead of for Terraform")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
