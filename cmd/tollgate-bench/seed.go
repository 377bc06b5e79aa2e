package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/keyfile"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/sqlite"
)

// seedPlan is what a seed holds: orgs, each with the same number of
// service accounts, each with the same number of API tokens, and audit
// events spread over the orgs. Each org's first account is an admin, and
// its first token acts as one: the credential the scale benchmark reads
// the org's lists with. Everything in it is a function of the
// numbers, so that the scale benchmark can name any account or present
// any token of a seeded database without storing them.
type seedPlan struct {
	orgs, accounts, tokens, events int
}

// accountsPerOrg, tokensPerAccount and eventsPerOrg divide the totals
// evenly (runSeed checks that they do).
func (p seedPlan) accountsPerOrg() int   { return p.accounts / p.orgs }
func (p seedPlan) tokensPerAccount() int { return p.tokens / p.accounts }
func (p seedPlan) eventsPerOrg() int     { return p.events / p.orgs }

// seedID is the n-th ID of a kind: a well-formed ID (26 Crockford
// characters), the same for every seed.
func seedID(prefix string, n int) string { return fmt.Sprintf("%s_%026d", prefix, n) }

func (p seedPlan) orgSlug(o int) string { return fmt.Sprintf("org-%05d", o) }

// adminToken is the value of org o's admin token (private: p.token(n) is
// public only for n%10 == 9).
func (p seedPlan) adminToken(o int) string {
	v, _ := p.token(o * p.accountsPerOrg() * p.tokensPerAccount())
	return v
}

// isPublic reports whether the n-th API token is public: every tenth.
func isPublic(n int) bool { return n%10 == 9 }

// token is the value of the n-th API token: a private token (every tenth
// is public), derived from n.
func (p seedPlan) token(n int) (value string, public bool) {
	public = isPublic(n)
	prefix := credential.PrefixPrivateToken
	if public {
		prefix = credential.PrefixPublicToken
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return credential.CredentialOf(prefix, sha256.Sum256(append([]byte("tollgate-bench seed token "), b[:]...))), public
}

// origin is the web origin the public tokens of org o list.
func (p seedPlan) origin(o int) string { return fmt.Sprintf("https://app-%05d.example.com", o) }

// seedEpoch is when seeded rows begin: every seed makes the same rows.
var seedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// timeOf is when, after seedEpoch, the n-th seeded account or audit event
// was made: a millisecond apart.
func timeOf(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// org returns org o's rows: the org, its accounts and their tokens, and its
// audit events, in batches of at most batch rows, to load in order.
func (p seedPlan) org(o int, kr *credential.Keyring, batch int, load func(*tollgate.Bulk) error) error {
	b := &tollgate.Bulk{}
	flush := func(force bool) error {
		if b.Rows() == 0 || (!force && b.Rows() < batch) {
			return nil
		}
		err := load(b)
		b = &tollgate.Bulk{}
		return err
	}
	slug := p.orgSlug(o)
	orgID := seedID(tollgate.PrefixOrg, o)
	b.Orgs = append(b.Orgs, tollgate.Org{ID: orgID, Slug: slug, Name: "Seeded " + slug, CreatedAt: seedEpoch})
	perOrg, perAccount := p.accountsPerOrg(), p.tokensPerAccount()
	for i := range perOrg {
		a := o*perOrg + i
		at := seedEpoch.Add(timeOf(a))
		name := fmt.Sprintf("sa-%07d", a)
		role := tollgate.RoleMember
		if i == 0 {
			role = tollgate.RoleAdmin
		}
		sa := tollgate.ServiceAccount{ID: seedID(tollgate.PrefixServiceAccount, a), OrgID: orgID, Name: name,
			Email: tollgate.ServiceAccountEmail(name, slug, tollgate.DefaultServiceAccountEmailDomain), Role: role,
			TokenTTLSeconds: 3600, Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_seed", ReuseAfter: at}
		b.ServiceAccounts = append(b.ServiceAccounts, sa)
		for k := range perAccount {
			n := a*perAccount + k
			value, public := p.token(n)
			t := tollgate.APIToken{ID: seedID(tollgate.PrefixAPIToken, n), OrgID: orgID, Name: fmt.Sprintf("token-%d", k), Kind: tollgate.KindPrivate,
				Role: tollgate.RoleViewer, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID, Hash: kr.Hash(value), CreatedAt: at, CreatedBy: "usr_seed"}
			if public {
				t.Kind, t.Domains = tollgate.KindPublic, []string{p.origin(o)}
			}
			if i == 0 && k == 0 {
				t.Role = tollgate.RoleAdmin
			}
			b.APITokens = append(b.APITokens, t)
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	actions := []string{tollgate.ActionServiceAccountCreated, tollgate.ActionServiceAccountSecretRotated, tollgate.ActionTokenCreated, tollgate.ActionAccessTokenIssued}
	perEvents := p.eventsPerOrg()
	for e := range perEvents {
		n := o*perEvents + e
		a := o*perOrg + e%max(perOrg, 1)
		ev := tollgate.AuditEvent{ID: seedID(tollgate.PrefixAuditEvent, n), Time: seedEpoch.Add(timeOf(n)), OrgID: orgID,
			Actor:  tollgate.Principal{Type: tollgate.PrincipalUser, ID: "usr_seed", Name: "seed@example.com"},
			Action: actions[e%len(actions)], Target: tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: seedID(tollgate.PrefixServiceAccount, a), Name: fmt.Sprintf("sa-%07d", a)},
			IP: "192.0.2.1", UserAgent: "tollgate-bench/seed", Details: map[string]any{}}
		b.AuditEvents = append(b.AuditEvents, ev)
		if err := flush(false); err != nil {
			return err
		}
	}
	return flush(true)
}

// check reports a plan whose totals do not divide evenly.
func (p seedPlan) check() error {
	switch {
	case p.orgs < 1 || p.accounts < p.orgs || p.accounts%p.orgs != 0:
		return errors.New("--accounts must be a multiple of --orgs, which must be at least 1")
	case p.tokens < 0 || p.tokens%p.accounts != 0:
		return errors.New("--tokens must be a multiple of --accounts")
	case p.events < 0 || p.events%p.orgs != 0:
		return errors.New("--events must be a multiple of --orgs")
	}
	return nil
}

// planFlags declares the plan's flags on fs, with the defaults of Z1.
func planFlags(fs *flag.FlagSet, p *seedPlan) {
	fs.IntVar(&p.orgs, "orgs", 1000, "organizations")
	fs.IntVar(&p.accounts, "accounts", 1_000_000, "service accounts, spread evenly over the organizations")
	fs.IntVar(&p.tokens, "tokens", 10_000_000, "API tokens, spread evenly over the accounts (every tenth public)")
	fs.IntVar(&p.events, "events", 10_000_000, "audit events, spread evenly over the organizations")
}

// isPostgres reports whether db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// keyFileFor is the key file of db: keyFile, else (SQLite only) the
// server's default, tollgate.key beside the database file.
func keyFileFor(db, keyFile string) (string, error) {
	switch {
	case keyFile != "":
		return keyFile, nil
	case isPostgres(db):
		return "", errors.New("with PostgreSQL, --key-file is required: the servers must use the same one")
	}
	return filepath.Join(filepath.Dir(db), "tollgate.key"), nil
}

// runSeed: tollgate-bench seed --db PATH|URL. It migrates the database and
// fills it with the plan's rows through Store.LoadBulk, printing progress,
// the rows per second and the database's size. The database must not
// hold a seed already.
func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollgate-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the SQLite file or postgres:// URL to fill (required)")
	keyFile := fs.String("key-file", "", "the server's key file, made if missing (default tollgate.key beside the SQLite file; required with PostgreSQL)")
	var p seedPlan
	planFlags(fs, &p)
	batch := fs.Int("batch", 20_000, "rows per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("seed: --db is required")
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if *batch < 1 {
		return errors.New("seed: --batch must be at least 1")
	}
	kf, err := keyFileFor(*db, *keyFile)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	res, err := seed(ctx, *db, kf, p, *batch, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d orgs, %d service accounts, %d API tokens, %d audit events: %d rows in %s, %.0f rows/s; database %.1f MiB\n",
		p.orgs, p.accounts, p.tokens, p.events, res.rows, res.elapsed.Round(time.Millisecond), float64(res.rows)/res.elapsed.Seconds(), float64(res.bytes)/(1<<20))
	return nil
}

// seeded is what a seed loaded, how long it took, and the database's size
// after it.
type seeded struct {
	rows    int
	elapsed time.Duration
	bytes   int64
}

// seed migrates db and loads p's rows into it, keyed by the key file
// (made if missing), reporting progress to progress every 10 s.
func seed(ctx context.Context, db, keyFile string, p seedPlan, batch int, progress io.Writer) (seeded, error) {
	kr, err := keyfile.Load(keyFile, true, progress)
	if err != nil {
		return seeded{}, err
	}
	var store tollgate.Store
	var size func() (int64, error)
	done := func() error { return nil } // after the last row
	if isPostgres(db) {
		s, err := postgres.Open(ctx, db)
		if err != nil {
			return seeded{}, err
		}
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return seeded{}, err
		}
		store, size = s, func() (int64, error) { return s.Size(ctx) }
		done = func() error { return s.Analyze(ctx) }
	} else {
		// A seed is made again rather than recovered: it need not wait
		// for the disk at every commit. Its indexes of hashes take writes
		// all over the file: a page cache of 1 GiB keeps them in memory.
		s, err := sqlite.Open(ctx, db, sqlite.Synchronous("OFF"), sqlite.CacheSize(1024))
		if err != nil {
			return seeded{}, err
		}
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return seeded{}, err
		}
		store, size = s, func() (int64, error) { return fileSizes(db, db+"-wal") }
	}
	defer store.Close()

	start, last := time.Now(), time.Now()
	rows := 0
	load := func(b *tollgate.Bulk) error {
		if err := store.LoadBulk(ctx, b); err != nil {
			return err
		}
		rows += b.Rows()
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			fmt.Fprintf(progress, "seed: %d rows, %.0f rows/s\n", rows, float64(rows)/time.Since(start).Seconds())
		}
		return ctx.Err()
	}
	for o := range p.orgs {
		if err := p.org(o, kr, batch, load); err != nil {
			return seeded{}, fmt.Errorf("seed: org %d: %w", o, err)
		}
	}
	if err := done(); err != nil {
		return seeded{}, err
	}
	res := seeded{rows: rows, elapsed: time.Since(start)}
	res.bytes, err = size()
	return res, err
}

// fileSizes adds the sizes of the files that exist of paths.
func fileSizes(paths ...string) (int64, error) {
	var n int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}
