package main

import "path/filepath"

// keyFilePath returns where the key file is: the flag's value, or
// tollgate.key beside a SQLite database. PostgreSQL deployments must name
// one, so that every replica shares it.
func keyFilePath(flagValue, db string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if isPostgres(db) {
		return "", &usageError{msg: "with PostgreSQL, --key-file (TOLLGATE_KEY_FILE) is required: every replica must use the same key file"}
	}
	return filepath.Join(filepath.Dir(db), "tollgate.key"), nil
}
