// Command tollgate runs the Tollgate server and its maintenance commands:
//
//	tollgate serve      run the server (migrates, bootstraps an empty database)
//	tollgate bootstrap  create the first organization and super admin
//	tollgate migrate    apply pending database migrations
//	tollgate healthcheck  probe a running server's /readyz
//	tollgate version    print the version
//
// Exit status: 0 on success, 1 on a runtime error, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err in one line and returns the exit status for it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.msg != "" {
			fmt.Fprintln(stderr, "tollgate:", ue.msg)
		}
		return 2
	}
	fmt.Fprintln(stderr, "tollgate:", err)
	return 1
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
