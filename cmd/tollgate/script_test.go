package main

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets test scripts run the real binary entry point as "tollgate".
func TestMain(m *testing.M) {
	// startProcess re-executes this test binary as "tollgate serve": a real
	// second process running the same code.
	if os.Getenv(execServeEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(exitCode(err, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"tollgate": func() {
			os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr), os.Stderr))
		},
	})
}

// TestScripts runs the CLI behaviour scripts in testdata/script. Besides
// the "tollgate" program they have "status N args…", which runs tollgate
// and checks its exit status.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"status": scriptStatus},
	})
}

// scriptStatus is the scripts' "status N args…": it runs tollgate
// in-process with the script's environment and checks its exit status.
func scriptStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: status N [args…]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	var stderr strings.Builder
	got := exitCode(run(context.Background(), args[1:], ts.Getenv, strings.NewReader(""), ts.Stdout(), &stderr), &stderr)
	ts.Stderr().Write([]byte(stderr.String()))
	if (got == want) == neg {
		ts.Fatalf("exit status %d, want %d; stderr:\n%s", got, want, stderr.String())
	}
}
