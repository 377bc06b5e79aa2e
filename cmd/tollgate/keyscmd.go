package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/keyfile"
	signing "github.com/tollgate/tollgate/keys"
)

// runKeys runs "tollgate keys rotate": a new signing key signs from now on
// (on every replica within a minute); the old one stays in the JWK Set
// until its last token has expired.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const keysUsage = "usage: tollgate keys rotate [--db …] [--key-file …]"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(stdout, keysUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(stderr, keysUsage)
		return &usageError{msg: "unknown keys command"}
	}
	fs := newFlags("keys rotate", stderr)
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "database: a SQLite file path, or a postgres:// URL (env TOLLGATE_DB)")
	keyFile := fs.String("key-file", getenv("TOLLGATE_KEY_FILE"), "the server's key file (env TOLLGATE_KEY_FILE; default tollgate.key beside the SQLite file)")
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		return err
	}
	path, err := keyFilePath(*keyFile, *db)
	if err != nil {
		return err
	}
	kr, err := keyfile.Load(path, false, stderr)
	if err != nil {
		return err
	}
	s, _, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	k, err := signing.New(s, kr, tollgate.SystemClock{}).Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rotated: new signing key %s\n", k.ID)
	return nil
}
