package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Backup writes a consistent snapshot of the database to path (O2) while
// other connections, and other processes, go on reading and writing: a
// VACUUM INTO, which reads the database in one transaction, so the
// snapshot holds every write committed before it began. The snapshot is
// written beside path and renamed into place, mode 0600 (it holds hashed
// secrets and sealed tokens), and its integrity is checked before it is.
// A file already at path is an error: a backup never overwrites.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists already", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmp := path + ".partial"
	os.Remove(tmp)
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := CheckIntegrity(ctx, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// CheckIntegrity runs PRAGMA integrity_check on the database file at
// path, read-only, and returns an error unless it answers ok.
func CheckIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite: integrity check of %s: %w", path, err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite: integrity check of %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: integrity check of %s: %s", path, res)
	}
	return nil
}
