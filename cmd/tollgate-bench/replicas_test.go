package main

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/tollgate/tollgate/internal/testenv"
)

// TestMain lets the test binary be the minimal server, as the command's
// own binary is: runReplicas starts os.Executable() minimal-server.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "minimal-server" {
		minimalServer()
		return
	}
	os.Exit(m.Run())
}

// TestReplicas runs tollgate-bench replicas briefly on a database of its
// own and checks what it found, never how fast: every scenario answered
// without errors, each fresh account was given exactly one token across
// both replicas (and the audit log says one was minted), every revocation
// through replica A was refused by replica B and stayed refused, and the
// run's schema is gone afterwards.
func TestReplicas(t *testing.T) {
	db := scratchDatabase(t)
	bin := filepath.Join(t.TempDir(), "tollgate")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/tollgate/tollgate/cmd/tollgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out, errOut strings.Builder
	err := runReplicas(t.Context(), []string{"--db", db, "--tollgate-bin", bin, "--duration", "300ms", "--warmup", "100ms",
		"--conns", "4", "--accounts", "6", "--revocations", "2", "--log-level", "warn"}, &out, &errOut)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("replicas: %v\n%s", err, errOut.String())
	}
	for _, name := range []string{"minimal net/http handler", "token endpoint, reused token", "/check, API token", "token endpoint, minting", "token endpoint, 6 fresh accounts"} {
		if !regexp.MustCompile(`(?m)^` + name + ` +4 +\d+ +\S+ms +\S+ms +0 +\S+$`).MatchString(out.String()) {
			t.Errorf("no line for %q with 4 connections and no errors", name)
		}
	}
	for _, want := range []string{
		"distinct tokens per account, both replicas: min 1, max 1 (must be exactly 1)",
		"access_token.issued audit events per account: min 1, max 1; tokens seen without an event: 0",
		"ok: exactly one token per account, across both replicas",
		"answers without a token or for another account: 0",
		"ok: every revocation through A was refused by B, and stayed refused",
		"B lost its LISTEN connection 0 times",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^  run \d: B's first 401 .* and 200 to a request sent after its first 401 0 times$`).FindAllString(out.String(), -1)); n != 2 {
		t.Errorf("%d revocations seen by B and kept, want 2", n)
	}
	if !regexp.MustCompile(`token answers: [1-9]\d* from A, [1-9]\d* from B`).MatchString(out.String()) {
		t.Error("the one-token check did not get answers from both replicas")
	}

	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'tollgate_bench_%'`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("schemas left by the run: %d, %v", left, err)
	}
}

// TestReplicasRefusesOtherDatabases: only a postgres:// URL will do.
func TestReplicasRefusesOtherDatabases(t *testing.T) {
	var out, errOut strings.Builder
	if err := runReplicas(t.Context(), []string{"--db", filepath.Join(t.TempDir(), "x.db")}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("a SQLite path: %v", err)
	}
}

// scratchDatabase creates a database with a unique name on the server of
// TOLLGATE_TEST_POSTGRES (skipping without it, failing when it is
// required), drops it when the test ends, and returns its URL.
func scratchDatabase(t *testing.T) string {
	t.Helper()
	base := testenv.Require(t, "TOLLGATE_TEST_POSTGRES", "a postgres:// URL")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TOLLGATE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := "tollgate_bench_replicas_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TOLLGATE_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
