package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tollgate/tollgate/internal/keyfile"
)

// The replicas command (issue 12, item 5): two Tollgate processes on one
// PostgreSQL database, as a deployment behind a load balancer runs them.
// It measures the hot paths with the connections split half and half
// between the replicas, then checks the two promises that only several
// replicas can break: one access token per account per lifetime (T2)
// under concurrent requests to both, and a revocation made through one
// replica refused by the other at once (A9), measured as the time from
// the revoking answer to the other replica's first 401.

// replicaIssuer is the one public URL both replicas are given, as replicas
// behind one load balancer are. It must be shared: a token is reused only
// by a server whose issuer and audience it names, so replicas that each
// took their own address as issuer would each mint their own.
const replicaIssuer = "http://tollgate-replicas.invalid"

// replicasConfig is what runReplicas is asked for.
type replicasConfig struct {
	config
	db          string
	cacheTTL    time.Duration
	accounts    int
	revocations int
	keepSchema  bool
}

// runReplicas: tollgate-bench replicas --db postgres://… . It makes a
// schema of its own in that database (dropped at the end), starts two
// replicas on it with one key file, and prints the measurements, the
// tokens minted per account and the revocation lag. It fails when an
// account got more than one token in a lifetime, when the other replica
// kept accepting a revoked token, or when it accepted it again after
// refusing it.
func runReplicas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollgate-bench replicas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg replicasConfig
	var conns string
	fs.StringVar(&cfg.db, "db", "", "postgres:// URL of a scratch database (required): each run makes its own schema tollgate_bench_… in it and drops it at the end")
	commonFlags(fs, &cfg.config, "measured time per scenario and connection count, and the window of the one-token check")
	fs.StringVar(&conns, "conns", "16,64", "connection counts, comma-separated, each split half and half between the replicas")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "the replicas' --log-level: info writes one line per request, as by default")
	fs.DurationVar(&cfg.cacheTTL, "cache-ttl", time.Second, "the replicas' --cache-ttl: how long each trusts a cached credential, which bounds the revocation lag if a notification is lost")
	fs.IntVar(&cfg.accounts, "accounts", 32, "fresh service accounts the one-token check requests tokens for, from both replicas at once")
	fs.IntVar(&cfg.revocations, "revocations", 5, "API tokens revoked through replica A while replica B's /check is under load")
	fs.BoolVar(&cfg.keepSchema, "keep-schema", false, "keep the run's schema instead of dropping it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.conns, err = parseConns(conns); err != nil {
		return err
	}
	switch {
	case !strings.HasPrefix(cfg.db, "postgres://") && !strings.HasPrefix(cfg.db, "postgresql://"):
		return errors.New("replicas: --db must be the postgres:// URL of a scratch database")
	case cfg.duration <= 0 || cfg.duration > 5*time.Minute || cfg.warmup < 0 || cfg.warmup > time.Minute:
		return errors.New("replicas: --duration must be between 0 and 5m, and --warmup between 0 and 1m")
	case cfg.accounts < 1 || cfg.accounts > 10_000:
		return errors.New("replicas: --accounts must be between 1 and 10000")
	case cfg.revocations < 1 || cfg.revocations > 100:
		return errors.New("replicas: --revocations must be between 1 and 100")
	case cfg.cacheTTL <= 0:
		return errors.New("replicas: --cache-ttl must be positive")
	}

	dbURL, schema, drop, err := scratchSchema(ctx, cfg.db)
	if err != nil {
		return err
	}
	if cfg.keepSchema {
		fmt.Fprintf(stderr, "replicas: keeping schema %s\n", schema)
	} else {
		defer drop()
	}
	dir, err := os.MkdirTemp("", "tollgate-bench-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyPath := filepath.Join(dir, "tollgate.key")
	if _, err := keyfile.Load(keyPath, true, io.Discard); err != nil {
		return err
	}
	if err := cfg.build(ctx, stderr); err != nil {
		return err
	}
	minimal, err := startMinimal(ctx)
	if err != nil {
		return err
	}
	defer minimal.stop()

	// Both start at once on the empty schema, as a deployment's replicas
	// do: migrations take an advisory lock, and the bootstrap that loses
	// the race carries on.
	flags := []string{"serve", "--addr", "127.0.0.1:0", "--db", dbURL, "--key-file", keyPath, "--issuer", replicaIssuer,
		"--cache-ttl", cfg.cacheTTL.String(), "--log-level", cfg.logLevel, "--shutdown-drain", "0",
		// Revoked tokens answered 401 again and again are failures from
		// this one address; the limit would turn them into 429s. Limits
		// are per process (R6) and not what this measures.
		"--limit-bearer", "1000000/1m"}
	var reps [2]*process
	var errs [2]error
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() {
			cmd := exec.Command(cfg.bin, flags...)
			cmd.Env = append(os.Environ(), "TOLLGATE_BOOTSTRAP_PASSWORD="+adminPassword)
			reps[i], errs[i] = start(ctx, cmd)
		})
	}
	wg.Wait()
	for _, p := range reps {
		if p != nil {
			defer p.stop()
		}
	}
	if err := errors.Join(errs[:]...); err != nil {
		return fmt.Errorf("replicas: tollgate: %w", err)
	}
	bases := []string{reps[0].base, reps[1].base}

	set, err := setUpReplicas(bases, slices.Max(cfg.conns), cfg.accounts)
	if err != nil {
		return fmt.Errorf("replicas: setting up: %w", err)
	}

	fmt.Fprintf(stdout, "tollgate-bench replicas: 2 Tollgate replicas (A %s, B %s) on one PostgreSQL database (schema %s), issuer %s, cache TTL %v; %v per measurement after %v warm-up; log level %s; connections split half and half between A and B; load generator and servers share this machine\n\n",
		bases[0], bases[1], schema, replicaIssuer, cfg.cacheTTL, cfg.duration, cfg.warmup, cfg.logLevel)
	fmt.Fprintf(stdout, "%-34s %6s %10s %9s %9s %8s %7s\n", "scenario", "conns", "req/s", "p50", "p99", "errors", "ratio")
	for _, n := range cfg.conns {
		ceiling := measure(ctx, "minimal net/http handler", n, cfg.config, func(int) request {
			return request{method: "GET", url: minimal.base + "/"}
		}, false)
		ceiling.print(stdout, 0)
		for _, sc := range set.scenarios {
			measure(ctx, sc.name, n, cfg.config, sc.req, sc.each).print(stdout, ceiling.rps)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		fmt.Fprintln(stdout)
	}

	failures, err := oneTokenPerLifetime(ctx, stdout, set, slices.Max(cfg.conns), cfg.config)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	more, err := revocationLag(ctx, stdout, set, slices.Max(cfg.conns), cfg)
	if err != nil {
		return err
	}
	if failures = append(failures, more...); len(failures) > 0 {
		return fmt.Errorf("replicas: %s", strings.Join(failures, "; "))
	}
	return nil
}

// parseConns parses --conns: connection counts from 1 to 1024.
func parseConns(list string) ([]int, error) {
	var out []int
	for _, c := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("--conns: %q is not a connection count from 1 to 1024", c)
		}
		out = append(out, n)
	}
	return out, nil
}

// scratchSchema creates an empty schema with a new name in the database
// of dbURL and returns a URL whose connections use it (search_path: the
// store's tables and its NOTIFY channel are the schema's), its name, and a
// function that drops it. Nothing else in the database is touched.
func scratchSchema(ctx context.Context, dbURL string) (string, string, func(), error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("replicas: --db: %w", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("replicas: connect to --db: %w", err)
	}
	defer conn.Close(ctx)
	schema := "tollgate_bench_" + strings.ToLower(rand.Text()[:12])
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		return "", "", nil, fmt.Errorf("replicas: create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err == nil {
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "replicas: dropping schema %s: %v\n", schema, err)
		}
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, drop, nil
}

// replicaSet is what the replicas command made through replica A's admin
// API.
type replicaSet struct {
	bases     []string // A, B
	admin     *api     // signed in on A
	scenarios []scenario
	// once are fresh accounts (an org of their own, lifetime an hour, no
	// reuse floor) that no token was asked for yet.
	onceOrg string
	once    []account
	revoker account // owns the API tokens revoked
}

// setUpReplicas creates, through replica A, what the measurements need:
// an account whose token is reused and an API token of it for /check; in
// an org whose reuse floor equals the token lifetime (every request mints,
// T2a), one account per connection; and the fresh accounts of the
// one-token check. Worker i of a scenario sends to replica i%2.
func setUpReplicas(bases []string, maxConns, onceAccounts int) (*replicaSet, error) {
	a, err := signIn(bases[0])
	if err != nil {
		return nil, err
	}
	set := &replicaSet{bases: bases, admin: a, onceOrg: "bench-once"}
	reuse, err := a.newAccount("acme", "bench-reuse", 3600)
	if err != nil {
		return nil, err
	}
	apiToken, err := a.newAPIToken(reuse)
	if err != nil {
		return nil, err
	}
	if set.revoker, err = a.newAccount("acme", "bench-revoke", 3600); err != nil {
		return nil, err
	}
	if err := a.call("POST", "/api/v1/orgs", map[string]string{"slug": "bench-mint", "name": "Minting benchmark"}, nil); err != nil {
		return nil, err
	}
	if err := a.call("PATCH", "/api/v1/orgs/bench-mint", map[string]any{"settings": map[string]int{"token_reuse_floor_seconds": 300}}, nil); err != nil {
		return nil, err
	}
	minters := make([]account, maxConns)
	for i := range minters {
		if minters[i], err = a.newAccount("bench-mint", fmt.Sprintf("minter-%d", i), 300); err != nil {
			return nil, err
		}
	}
	if err := a.call("POST", "/api/v1/orgs", map[string]string{"slug": set.onceOrg, "name": "One token per lifetime"}, nil); err != nil {
		return nil, err
	}
	set.once = make([]account, onceAccounts)
	for i := range set.once {
		if set.once[i], err = a.newAccount(set.onceOrg, fmt.Sprintf("once-%d", i), 3600); err != nil {
			return nil, err
		}
	}
	form := func(acc account) string {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {acc.ID}, "client_secret": {acc.Secret}}.Encode()
	}
	reuseForm := form(reuse)
	set.scenarios = []scenario{
		{name: "token endpoint, reused token", req: func(i int) request {
			return request{method: "POST", url: bases[i%2] + "/oauth2/token", body: reuseForm, contentType: formType}
		}},
		{name: "/check, API token", req: func(i int) request {
			return request{method: "GET", url: bases[i%2] + "/check", bearer: apiToken}
		}},
		{name: "token endpoint, minting", req: func(i int) request {
			return request{method: "POST", url: bases[i%2] + "/oauth2/token", body: form(minters[i]), contentType: formType}
		}},
	}
	return set, nil
}

// oneTokenPerLifetime sends client credentials requests for the fresh
// accounts from conns workers split between the replicas, every worker
// going through the accounts in the same order, so that the first requests
// for each account arrive at both replicas at once. It collects every
// distinct access token each account was given over the warm-up and the
// measurement (a window well inside the hour the tokens live), and counts
// each account's access_token.issued audit events. An account given more
// than one token, or with more than one event, is a failure.
func oneTokenPerLifetime(ctx context.Context, w io.Writer, set *replicaSet, conns int, cfg config) ([]string, error) {
	n := len(set.once)
	forms := make([]string, n)
	for i, acc := range set.once {
		forms[i] = url.Values{"grant_type": {"client_credentials"}, "client_id": {acc.ID}, "client_secret": {acc.Secret}}.Encode()
	}
	var mu sync.Mutex
	tokens := make([]map[string]bool, n) // by account
	for i := range tokens {
		tokens[i] = map[string]bool{}
	}
	var wrong atomic.Int64 // answers naming another account, or no token
	var perReplica [2]atomic.Int64
	next := make([]int, conns) // by worker: the next account's index
	sc := scenario{each: true, req: func(i int) request {
		k := next[i] % n
		next[i]++
		return request{method: "POST", url: set.bases[i%2] + "/oauth2/token", body: forms[k], contentType: formType, seen: func(body []byte) {
			var resp struct {
				AccessToken    string `json:"access_token"`
				ServiceAccount struct {
					ID string `json:"id"`
				} `json:"service_account"`
			}
			if json.Unmarshal(body, &resp) != nil || resp.AccessToken == "" || resp.ServiceAccount.ID != set.once[k].ID {
				wrong.Add(1)
				return
			}
			perReplica[i%2].Add(1)
			mu.Lock()
			tokens[k][resp.AccessToken] = true
			mu.Unlock()
		}}
	}}
	start := time.Now()
	res := measure(ctx, fmt.Sprintf("token endpoint, %d fresh accounts", n), conns, cfg, sc.req, sc.each)
	window := time.Since(start)
	fmt.Fprintf(w, "one token per account per lifetime: %d fresh accounts (lifetime 3600 s), %d connections split between A and B, every worker asking for the accounts in the same order; window %v\n",
		n, conns, window.Round(time.Millisecond))
	fmt.Fprintf(w, "%-34s %6s %10s %9s %9s %8s %7s\n", "scenario", "conns", "req/s", "p50", "p99", "errors", "ratio")
	res.print(w, 0)

	minted := make([]int, n)
	jtis := map[string]bool{}
	for k := range tokens {
		minted[k] = len(tokens[k])
		for t := range tokens[k] {
			jtis[jti(t)] = true
		}
	}
	fmt.Fprintf(w, "  token answers: %d from A, %d from B; answers without a token or for another account: %d\n", perReplica[0].Load(), perReplica[1].Load(), wrong.Load())
	fmt.Fprintf(w, "  distinct tokens per account, both replicas: min %d, max %d (must be exactly 1)\n", slices.Min(minted), slices.Max(minted))
	var failures []string
	if slices.Max(minted) > 1 {
		var many []string
		for k, m := range minted {
			if m > 1 {
				many = append(many, fmt.Sprintf("%s: %d", set.once[k].ID, m))
			}
		}
		failures = append(failures, fmt.Sprintf("%d accounts were given more than one token in a lifetime (%s)", len(many), strings.Join(many, ", ")))
	}
	if slices.Min(minted) < 1 {
		failures = append(failures, "an account was given no token")
	}
	if wrong.Load() > 0 {
		failures = append(failures, fmt.Sprintf("%d token answers without a token or for another account", wrong.Load()))
	}

	// The server's own record: one access_token.issued event a mint (L2).
	events, targets, err := issuedEvents(set.admin, set.onceOrg)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	audited := make([]int, n)
	for k, acc := range set.once {
		audited[k] = events[acc.ID]
	}
	unaudited := 0
	for j := range jtis {
		if !targets[j] {
			unaudited++
		}
	}
	fmt.Fprintf(w, "  access_token.issued audit events per account: min %d, max %d; tokens seen without an event: %d\n", slices.Min(audited), slices.Max(audited), unaudited)
	if slices.Max(audited) > 1 {
		failures = append(failures, fmt.Sprintf("the audit log records up to %d tokens issued to one account in a lifetime", slices.Max(audited)))
	}
	if unaudited > 0 {
		failures = append(failures, fmt.Sprintf("%d tokens handed out have no access_token.issued event", unaudited))
	}
	if len(failures) == 0 {
		fmt.Fprintln(w, "  ok: exactly one token per account, across both replicas")
	}
	return failures, nil
}

// jti returns the jti claim of a JWT, or "" if it has none.
func jti(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var cl struct {
		ID string `json:"jti"`
	}
	json.Unmarshal(b, &cl)
	return cl.ID
}

// issuedEvents pages through an org's access_token.issued audit events
// and returns their count by actor (the account given the token) and the
// set of their targets (the tokens' IDs, their jti).
func issuedEvents(a *api, org string) (map[string]int, map[string]bool, error) {
	byActor, targets := map[string]int{}, map[string]bool{}
	for cursor := ""; ; {
		var page struct {
			Items []struct {
				Actor  struct{ ID string } `json:"actor"`
				Target struct{ ID string } `json:"target"`
			} `json:"items"`
			Next *string `json:"next_cursor"`
		}
		q := url.Values{"action": {"access_token.issued"}, "limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := a.call("GET", "/api/v1/orgs/"+org+"/audit-events?"+q.Encode(), nil, &page); err != nil {
			return nil, nil, err
		}
		for _, ev := range page.Items {
			byActor[ev.Actor.ID]++
			targets[ev.Target.ID] = true
		}
		if page.Next == nil || *page.Next == "" {
			return byActor, targets, nil
		}
		cursor = *page.Next
	}
}

// revocationMechanism says how a revocation reaches the other replicas
// (store/postgres/notify.go, authn/invalidate.go).
const revocationMechanism = `PostgreSQL LISTEN/NOTIFY: the revoking replica commits, then sends the credential's hash with pg_notify on the schema's channel (tollgate_invalidate_<schema>); every other replica holds one connection on LISTEN and drops that credential from its caches, and a generation counter keeps look-ups begun before the change from caching what they read. The cache TTL bounds the lag if a notification is lost; a lost LISTEN connection clears every cache when it listens again`

// revocationLag revokes API tokens through replica A's admin API, one at a
// time, each while conns workers send /check with it to replica B back to
// back, and prints for each the time from A's answer to B's first 401,
// then min, median and max. A revocation B has not refused within the
// timeout, or a 200 from B to a request sent after B had refused the
// token, is a failure.
func revocationLag(ctx context.Context, w io.Writer, set *replicaSet, conns int, cfg replicasConfig) ([]string, error) {
	timeout := max(10*cfg.cacheTTL, 5*time.Second)
	fmt.Fprintf(w, "revocation lag: %d API tokens, each revoked through A (DELETE /api/v1/orgs/acme/tokens/{id}) while %d connections send /check with it to B back to back\n",
		cfg.revocations, conns)
	fmt.Fprintf(w, "  mechanism: %s\n", revocationMechanism)
	var lags []time.Duration
	var failures []string
	for r := range cfg.revocations {
		rv, err := revokeUnderLoad(ctx, set, conns, timeout)
		if err != nil {
			return nil, fmt.Errorf("revocation %d: %w", r+1, err)
		}
		if !rv.seen {
			fmt.Fprintf(w, "  run %d: B still answered 200 %v after A revoked the token (A's DELETE took %s)\n", r+1, timeout, ms(rv.deleteTook))
			failures = append(failures, fmt.Sprintf("replica B accepted a token revoked through A for more than %v", timeout))
		} else {
			lags = append(lags, rv.lag)
			fmt.Fprintf(w, "  run %d: B's first 401 %s after A answered the DELETE (which took %s); B answered 200 %d times before, and 200 to a request sent after its first 401 %d times\n",
				r+1, ms(rv.lag), ms(rv.deleteTook), rv.before, rv.stale)
		}
		if rv.stale > 0 {
			failures = append(failures, fmt.Sprintf("replica B accepted a revoked token again after refusing it (%d times)", rv.stale))
		}
		if rv.other > 0 {
			fmt.Fprintf(w, "    %d answers neither 200 nor 401; first: %s\n", rv.other, rv.otherFirst)
		}
	}
	if len(lags) > 0 {
		slices.Sort(lags)
		within := 0
		for _, l := range lags {
			if l <= cfg.cacheTTL {
				within++
			}
		}
		fmt.Fprintf(w, "  lag from A's answer to B's first 401: min %s, median %s, max %s; %d of %d within the cache TTL (%v) that bounds it\n",
			ms(lags[0]), ms(lags[len(lags)/2]), ms(lags[len(lags)-1]), within, len(lags), cfg.cacheTTL)
	}
	if lost, ok := metricValue(set.bases[1], "tollgate_invalidation_channel_lost_total"); ok {
		fmt.Fprintf(w, "  B lost its LISTEN connection %.0f times\n", lost)
	}
	if len(failures) == 0 {
		fmt.Fprintln(w, "  ok: every revocation through A was refused by B, and stayed refused")
	}
	return failures, nil
}

// revocation is what one revocation under load showed.
type revocation struct {
	seen       bool          // B answered 401
	lag        time.Duration // from A's answer to B's first 401 (negative if B refused before A's answer arrived)
	deleteTook time.Duration // A's DELETE, request to answer
	before     int64         // B's 200s before its first 401
	stale      int64         // B's 200s to requests sent after its first 401 arrived
	other      int64         // answers neither 200 nor 401, and transport errors
	otherFirst string
}

// revokeUnderLoad creates an API token, loads B's /check with it until B
// has answered 200 a few times per connection, revokes it through A, and
// waits for B's first 401 (at most timeout), then watches B a little
// longer for a 200 that would mean it accepted the token again.
func revokeUnderLoad(ctx context.Context, set *replicaSet, conns int, timeout time.Duration) (revocation, error) {
	var rv revocation
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := set.admin.call("POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "bench-revoked", "service_account_id": set.revoker.ID, "kind": "private"}, &tok); err != nil {
		return rv, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	var ok, stale, other atomic.Int64
	var first401 atomic.Int64 // when B's first 401 arrived (Unix ns); 0 before
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for lctx.Err() == nil {
				req, _ := http.NewRequestWithContext(lctx, "GET", set.bases[1]+"/check", nil)
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				sent := time.Now().UnixNano()
				resp, err := client.Do(req)
				var status int
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				} else if lctx.Err() != nil {
					return
				}
				at := time.Now().UnixNano()
				switch status {
				case http.StatusOK:
					if f := first401.Load(); f == 0 {
						ok.Add(1)
					} else if sent > f {
						stale.Add(1)
					}
				case http.StatusUnauthorized:
					for {
						cur := first401.Load()
						if (cur != 0 && cur <= at) || first401.CompareAndSwap(cur, at) {
							break
						}
					}
				default:
					if other.Add(1) == 1 {
						mu.Lock()
						if err != nil {
							rv.otherFirst = err.Error()
						} else {
							rv.otherFirst = strconv.Itoa(status)
						}
						mu.Unlock()
					}
				}
			}
		})
	}
	finish := func() {
		stop()
		wg.Wait()
		rv.before, rv.stale, rv.other = ok.Load(), stale.Load(), other.Load()
	}
	// B verifies the token once and serves it from its cache from then on:
	// the revocation must reach that cache.
	for warm := time.Now(); ok.Load() < int64(4*conns); {
		if time.Since(warm) > 10*time.Second || first401.Load() != 0 {
			finish()
			return rv, fmt.Errorf("replica B did not accept the new token under load (%d answers of 200, %d others: %s)", rv.before, rv.other, rv.otherFirst)
		}
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	if err := set.admin.call("DELETE", "/api/v1/orgs/acme/tokens/"+tok.ID, nil, nil); err != nil {
		finish()
		return rv, err
	}
	t1 := time.Now()
	rv.deleteTook = t1.Sub(t0)
	for first401.Load() == 0 && time.Since(t1) < timeout && ctx.Err() == nil {
		time.Sleep(100 * time.Microsecond)
	}
	if f := first401.Load(); f != 0 {
		rv.seen, rv.lag = true, time.Unix(0, f).Sub(t1)
		time.Sleep(200 * time.Millisecond) // does B keep refusing it?
	}
	finish()
	return rv, ctx.Err()
}

// metricValue reads one unlabelled sample from a replica's /metrics.
func metricValue(base, name string) (float64, bool) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
