package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tollgate/tollgate/store/sqlite"
)

// runBackup writes a consistent online snapshot of a SQLite database
// (O2), while serve runs and writes. Restoring is starting serve on the
// snapshot with the same key file. PostgreSQL is backed up with its own
// tools (docs/operations.md).
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "the SQLite database file to back up (env TOLLGATE_DB)")
	out := fs.String("out", "", "the snapshot file to write (required; never overwritten)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if *out == "" {
		return &usageError{msg: "--out is required: the file to write the snapshot to"}
	}
	if isPostgres(*db) {
		return &usageError{msg: "backup is for SQLite: back up PostgreSQL with pg_dump or point-in-time recovery (docs/operations.md), and keep the key file"}
	}
	if _, err := os.Stat(*db); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	s, err := sqlite.Open(ctx, *db) // no migration: serve owns the schema
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Backup(ctx, *out); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes; integrity ok). Restore by starting serve on it with the same key file.\n", *out, fi.Size())
	return nil
}
