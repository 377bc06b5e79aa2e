package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `usage: tollgate <command> [flags]

commands:
  serve      run the server (runs migrations; bootstraps an empty database)
  bootstrap  create the first organization and super admin, without serving
  migrate    apply pending database migrations
  keys rotate  make a new signing key current (the old one stays published)
  backup     write a consistent snapshot of a SQLite database while serve runs
  healthcheck  exit 0 when a running server is ready (GET /readyz), 1 otherwise
  version    print the version

admin commands, against a running server (--server URL or TOLLGATE_SERVER; credential TOLLGATE_TOKEN,
or the one "tollgate login" saved):
  login      sign in as a person at the command line (approve the code in the console)
  logout     revoke that sign-in and forget it
  service-accounts  list|create|get|update|disable|enable|rotate|delete, keys, federated-credentials
  tokens     list|create|get|revoke|reassign|import
  members    list|invite|remove
  audit      list|export

Run "tollgate <command> -h" for a command's flags.`

// run is the whole program behind main, with its environment passed in so
// that tests can run it in-process: args without the program name, getenv
// for TOLLGATE_* configuration, and the three standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := runCommand(ctx, args, getenv, stdin, stdout, stderr); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

// runCommand runs the command args name.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return &usageError{}
	}
	var leading []string
	if isLeadingFlag(args[0]) {
		// "tollgate --server URL service-accounts list": connection flags
		// before an admin group.
		leading, args = leadingFlags(args)
		if len(args) == 0 {
			fmt.Fprintln(stderr, usage)
			return &usageError{msg: "missing command after " + strings.Join(leading, " ")}
		}
		if _, ok := findGroup(args[0]); !ok {
			fmt.Fprintln(stderr, usage)
			return &usageError{msg: fmt.Sprintf("--server, --org and --output come before an admin command (service-accounts, tokens, members, audit), not %q", args[0])}
		}
	}
	if g, ok := findGroup(args[0]); ok {
		return runAdmin(ctx, g, leading, args[1:], getenv, stdin, stdout, stderr)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stderr)
	case "bootstrap":
		return runBootstrap(ctx, rest, getenv, stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, getenv, stdout, stderr)
	case "login":
		return runLogin(ctx, rest, getenv, stdout, stderr)
	case "logout":
		return runLogout(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "tollgate", versionString())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return &usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tollgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// errHelp: the command line asked for help (-h), which the flag set has
// printed; run answers it with exit status 0.
var errHelp = errors.New("help requested")

// parseFlags parses args, then applies the --config file to the flags
// neither args nor the environment set (applyConfig), turning every
// problem into a usageError, and -h into errHelp. It defines --config
// (defineConfig) unless the command did.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if fs.Lookup(configFlag) == nil {
		defineConfig(fs, getenv)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return applyConfig(fs, getenv)
}

// envOr returns the environment variable's value, or def when it is empty.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// store is a tollgate.Store that can migrate its schema.
type store interface {
	tollgate.Store
	Migrate(ctx context.Context) ([]int, error)
}

// isPostgres reports whether the --db value selects PostgreSQL.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the database named by db (a postgres:// URL or a SQLite
// file path) and applies pending migrations. opts tune a SQLite database.
func openStore(ctx context.Context, db string, opts ...sqlite.Option) (store, []int, error) {
	var s store
	var err error
	if isPostgres(db) {
		s, err = postgres.Open(ctx, db)
	} else {
		s, err = sqlite.Open(ctx, db, opts...)
	}
	if err != nil {
		return nil, nil, err
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, applied, nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "database: a SQLite file path, or a postgres:// URL (env TOLLGATE_DB)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	s, applied, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(stdout, "applied migration %04d\n", v)
	}
	return nil
}
