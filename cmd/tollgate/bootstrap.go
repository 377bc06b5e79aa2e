package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

func runBootstrap(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("bootstrap", stderr)
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "database: a SQLite file path, or a postgres:// URL (env TOLLGATE_DB)")
	org := fs.String("org", envOr(getenv, "TOLLGATE_BOOTSTRAP_ORG", "acme"), "slug of the first organization")
	email := fs.String("email", envOr(getenv, "TOLLGATE_BOOTSTRAP_EMAIL", "admin@example.com"), "email of the first super admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (default: generate and print one)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("--password-stdin: standard input is empty")
		}
	}
	s, _, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	a := app.New(s, nil, app.Config{}, slog.New(slog.NewTextHandler(stderr, nil)))
	res, err := a.Bootstrap(ctx, *org, *email, password)
	if err != nil {
		if tollgate.ErrorCode(err) == tollgate.EInternal {
			return err
		}
		return fmt.Errorf("bootstrap: %s", tollgate.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created organization %s and super admin %s\n", res.Org.Slug, res.User.Email)
	if !*fromStdin {
		fmt.Fprintf(stdout, "password: %s\n", res.Password)
	}
	return nil
}
