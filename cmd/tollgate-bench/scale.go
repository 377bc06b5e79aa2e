package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/keyfile"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/sqlite"
)

// smallPlan is the 1,000-row database every operation at scale is compared
// with: one org of 100 accounts with 1,000 tokens and 1,000 audit events,
// so that an account has as many tokens, and is the target of as many
// events, as in the default seed (10), and a filter by owner or target
// answers as many rows on both.
var smallPlan = seedPlan{orgs: 1, accounts: 100, tokens: 1000, events: 1000}

// scaleConfig is what tollgate-bench scale measures with.
type scaleConfig struct {
	config
	conns    int
	rotation int            // distinct tokens presented to a cached /check
	fill     time.Duration  // the warm-up of the hour-long cache's rotation
	profile  string         // a directory for CPU profiles of each measurement, or ""
	only     *regexp.Regexp // the operations to measure (nil: all)
}

// measures reports whether the operation called name is to be measured.
func (c scaleConfig) measures(name string) bool { return c.only == nil || c.only.MatchString(name) }

// runScale: tollgate-bench scale --db PATH|URL. It measures each operation
// of DESIGN.md Z1 and Z2 on a database filled by tollgate-bench seed and
// on a 1,000-row one (seeded here), one after the other in one run, and
// prints each pair's rates, p99s and ratio, the memory and cache hit rate
// of a /check that sees a million distinct tokens, and whether the plan of
// every statement behind the operations uses an index at scale.
func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollgate-bench scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "a database filled by tollgate-bench seed with the same plan flags (required)")
	smallDB := fs.String("small-db", "", "the 1,000-row database to compare with, seeded here unless it holds that seed already (default: a new SQLite file; required with PostgreSQL)")
	keyFile := fs.String("key-file", "", "the seed's key file (default tollgate.key beside the SQLite file; required with PostgreSQL)")
	var p seedPlan
	planFlags(fs, &p)
	var cfg scaleConfig
	commonFlags(fs, &cfg.config, "measured time per operation and database")
	fs.IntVar(&cfg.conns, "conns", 16, "connections")
	fs.IntVar(&cfg.rotation, "rotation", 1_000_000, "distinct API tokens presented in turn to /check with its cache on (at most --tokens)")
	fs.DurationVar(&cfg.fill, "fill", 30*time.Second, "load before the rotation over an hour-long cache is measured, which fills the cache toward its bound")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "Tollgate's --log-level")
	fs.StringVar(&cfg.sync, "sqlite-synchronous", "FULL", "Tollgate's --sqlite-synchronous")
	fs.StringVar(&cfg.profile, "profile", "", "write a CPU profile of the server over each measurement into this directory (go tool pprof FILE)")
	only := fs.String("only", "", "measure only the operations whose names match this regular expression")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("scale: --only: %w", err)
		}
		cfg.only = re
	}
	if cfg.profile != "" {
		if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
			return fmt.Errorf("scale: --profile: %w", err)
		}
	}
	switch {
	case *db == "":
		return errors.New("scale: --db is required")
	case cfg.duration <= 0 || cfg.duration > 5*time.Minute:
		return errors.New("scale: --duration must be between 0 and 5m")
	case cfg.conns < 1 || cfg.conns > 1024:
		return errors.New("scale: --conns must be from 1 to 1024")
	case cfg.rotation < 1:
		return errors.New("scale: --rotation must be at least 1")
	case isPostgres(*db) && *smallDB == "":
		return errors.New("scale: with PostgreSQL, --small-db is required: an empty database for the 1,000-row seed")
	case *smallDB != "" && isPostgres(*smallDB) != isPostgres(*db):
		return errors.New("scale: --small-db must be on the same store as --db")
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	kf, err := keyFileFor(*db, *keyFile)
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	if err := holdsSeed(ctx, *db, kf, p); err != nil {
		return err
	}
	smallKey := kf
	if *smallDB == "" {
		dir, err := os.MkdirTemp("", "tollgate-bench-small-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*smallDB, smallKey = filepath.Join(dir, "small.db"), filepath.Join(dir, "tollgate.key")
	}
	if err := holdsSeed(ctx, *smallDB, smallKey, smallPlan); err != nil {
		if _, err := seed(ctx, *smallDB, smallKey, smallPlan, 20_000, stderr); err != nil {
			return fmt.Errorf("scale: seeding --small-db: %w", err)
		}
	}
	if err := cfg.build(ctx, stderr); err != nil {
		return err
	}

	minimal, err := startMinimal(ctx)
	if err != nil {
		return err
	}
	defer minimal.stop()
	ceiling := measure(ctx, "minimal net/http handler", cfg.conns, cfg.config, func(int) request {
		return request{method: "GET", url: minimal.base + "/"}
	}, false)

	dbs := []*scaleDB{{name: "small", db: *smallDB, keyFile: smallKey, plan: smallPlan}, {name: "seeded", db: *db, keyFile: kf, plan: p}}
	if err := measureScale(ctx, cfg, dbs, stderr); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	printScale(stdout, cfg, p, ceiling, dbs[0], dbs[1])
	return nil
}

// holdsSeed reports whether db holds p's seed: its last token and its
// last org's admin token are there, and the token after the last is not.
func holdsSeed(ctx context.Context, db, keyFile string, p seedPlan) error {
	kr, err := keyfile.Load(keyFile, false, io.Discard)
	if err != nil {
		return err
	}
	var s interface {
		tollgate.Store
		Close() error
	}
	if isPostgres(db) {
		s, err = postgres.Open(ctx, db)
	} else {
		if _, statErr := os.Stat(db); statErr != nil {
			return statErr
		}
		s, err = sqlite.Open(ctx, db)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	last, _ := p.token(p.tokens - 1)
	after, _ := p.token(p.tokens)
	for _, v := range []string{last, p.adminToken(p.orgs - 1)} {
		if _, err := s.GetAPITokenByHash(ctx, kr.Hash(v)); err != nil {
			return fmt.Errorf("%s does not hold the seed of %d orgs, %d accounts and %d tokens (run tollgate-bench seed with the same flags and key file): %w", db, p.orgs, p.accounts, p.tokens, err)
		}
	}
	if _, err := s.GetAPITokenByHash(ctx, kr.Hash(after)); err == nil {
		return fmt.Errorf("%s holds more than %d tokens: give the flags it was seeded with", db, p.tokens)
	}
	return nil
}

// scaleDB is one of the two databases compared, and what was measured
// on it.
type scaleDB struct {
	name, db, keyFile string
	plan              seedPlan
	ops               []result // in the order of the table
	rotations         []rotationStats
	plans             []planCheck
}

// rotationStats are the credential cache's hit rate and size, and the
// server's memory, over one rotation measurement.
type rotationStats struct {
	ttl          string // the server's --cache-ttl
	distinct     int
	hits, misses float64
	cached       float64
	rss, peakRSS int64 // bytes
}

// measureScale measures every operation on each database in turn, one
// operation at a time, so that what else runs on the machine weighs on
// both alike. Each phase serves both databases at once: with the cache
// as by default; then with a cache that trusts nothing (cold /check);
// then with one that trusts for an hour, filled to its bound by the
// rotation. Last, it checks the plans of each database's statements.
func measureScale(ctx context.Context, cfg scaleConfig, dbs []*scaleDB, progress io.Writer) error {
	serve := func(extra ...string) ([]*process, error) {
		var ps []*process
		for _, d := range dbs {
			flags := append([]string{"--key-file", d.keyFile, "--log-level", cfg.logLevel, "--sqlite-synchronous", cfg.sync}, extra...)
			var admin string
			if cfg.profile != "" {
				var err error
				if admin, err = freeAddr(); err != nil {
					return nil, err
				}
				flags = append(flags, "--admin-addr", admin, "--pprof")
			}
			tg, err := serveOn(ctx, cfg.bin, d.db, flags...)
			if err != nil {
				for _, p := range ps {
					p.stop()
				}
				return nil, fmt.Errorf("%s database: %w", d.name, err)
			}
			tg.admin = admin
			ps = append(ps, tg)
		}
		return ps, nil
	}
	// measureOn measures sc on process tg of database d, profiling the
	// server meanwhile when asked to.
	measureOn := func(tg *process, d *scaleDB, name string, c config, sc scenario) result {
		if cfg.profile == "" {
			return measure(ctx, name, cfg.conns, c, sc.req, sc.each)
		}
		done := profileDuring(tg.admin, c.warmup+c.duration, filepath.Join(cfg.profile, d.name+"-"+slug(name)+".pprof"), progress)
		defer done()
		return measure(ctx, name, cfg.conns, c, sc.req, sc.each)
	}
	stopAll := func(ps []*process) {
		for _, p := range ps {
			p.stop()
		}
	}
	// each measures the scenario mk makes for each database, in turn.
	each := func(ps []*process, mk func(i int, d *scaleDB, base string) scenario) {
		for i, d := range dbs {
			sc := mk(i, d, ps[i].base)
			if !cfg.measures(sc.name) {
				return
			}
			d.ops = append(d.ops, measureOn(ps[i], d, sc.name, cfg.config, sc))
		}
	}
	rotate := func(ps []*process, ttl string, warmup time.Duration) error {
		c := cfg.config
		c.warmup = max(c.warmup, warmup)
		for i, d := range dbs {
			sc, n := rotationScenario(ps[i].base, d.plan, cfg.rotation)
			if sc.name += ", cache TTL " + ttl; !cfg.measures(sc.name) {
				return nil
			}
			before, err := scrapeLookups(ps[i].metricsBase())
			if err != nil {
				return err
			}
			d.ops = append(d.ops, measureOn(ps[i], d, sc.name, c, sc))
			after, err := scrapeLookups(ps[i].metricsBase())
			if err != nil {
				return err
			}
			st := rotationStats{ttl: ttl, distinct: n, hits: after.hits - before.hits, misses: after.misses - before.misses, cached: after.cached}
			st.rss, st.peakRSS = memoryOf(ps[i].cmd.Process.Pid)
			d.rotations = append(d.rotations, st)
		}
		return nil
	}

	ps, err := serve()
	if err != nil {
		return err
	}
	defer func() { stopAll(ps) }()
	worlds := make([]*scaleWorld, len(dbs))
	for i, d := range dbs {
		fmt.Fprintf(progress, "setting up the %s database…\n", d.name)
		if worlds[i], err = setUpScale(ps[i].base, d.plan, cfg.conns); err != nil {
			return fmt.Errorf("%s database: %w", d.name, err)
		}
	}
	for k := range worlds[0].scenarios {
		if !cfg.measures(worlds[0].scenarios[k].name) {
			continue
		}
		fmt.Fprintf(progress, "%s…\n", worlds[0].scenarios[k].name)
		each(ps, func(i int, _ *scaleDB, _ string) scenario { return worlds[i].scenarios[k] })
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := rotate(ps, "1s", 0); err != nil {
		return err
	}
	stopAll(ps)
	ps = nil
	if cfg.measures(coldCheck) {
		fmt.Fprintf(progress, "cold cache…\n")
		if ps, err = serve("--cache-ttl", "1ns"); err != nil {
			return err
		}
		each(ps, func(_ int, d *scaleDB, base string) scenario { return randomTokenScenario(base, d.plan) })
		stopAll(ps)
		ps = nil
	}
	if cfg.measures(manyTokens + ", cache TTL 1h") {
		fmt.Fprintf(progress, "bounded cache…\n")
		if ps, err = serve("--cache-ttl", "1h"); err != nil {
			return err
		}
		if err := rotate(ps, "1h", cfg.fill); err != nil {
			return err
		}
		stopAll(ps)
		ps = nil
	}

	for i, d := range dbs {
		if d.plans, err = checkPlans(ctx, d.db, d.keyFile, d.plan, worlds[i].ids); err != nil {
			return fmt.Errorf("checking the plans of the %s database: %w", d.name, err)
		}
	}
	return ctx.Err()
}

// scaleWorld is what setUpScale made and found on one database.
type scaleWorld struct {
	scenarios []scenario
	ids       planIDs
}

// planIDs name the rows the plan check looks up, as the load did.
type planIDs struct {
	memberOrgID, memberID string
}

// listOrgs are the orgs whose lists are read: four spread over the seed
// (one when there is one org).
func listOrgs(p seedPlan) []int {
	var os []int
	for _, o := range []int{0, p.orgs / 4, p.orgs / 2, 3 * p.orgs / 4} {
		if len(os) == 0 || os[len(os)-1] != o {
			os = append(os, o)
		}
	}
	return os
}

// The names of the operations on servers of their own.
const (
	coldCheck  = "/check, cold cache, random token"
	manyTokens = "/check, many tokens"
)

// workerOrg is the org the i-th worker reads in: workers spread over the
// seed, 0 when there is one org.
func workerOrg(p seedPlan, i int) int { return i * 7919 % p.orgs }

// setUpScale prepares the operations of Z1 on a server over a seeded
// database: reads through each listed org's admin token, with the cursors
// of deep pages found by walking the lists; the token endpoint's accounts
// (setUp, in the bootstrap org); and a member who owns tokens, whose
// removal is refused with their count.
func setUpScale(base string, p seedPlan, conns int) (*scaleWorld, error) {
	admins := make([]string, p.orgs)
	for o := range admins {
		admins[o] = p.adminToken(o)
	}
	orgs := listOrgs(p)
	perOrg, perEvents := p.accountsPerOrg(), p.eventsPerOrg()
	path := func(o int, rest string) string { return base + "/api/v1/orgs/" + p.orgSlug(o) + rest }
	get := func(o int, rest string) request {
		return request{method: "GET", url: path(o, rest), bearer: admins[o]}
	}
	deep := map[string][]string{} // list path → a cursor near the end of each listed org's list
	for _, list := range []string{"/service-accounts", "/tokens", "/audit-events"} {
		for _, o := range orgs {
			c, err := lastCursor(path(o, list), admins[o])
			if err != nil {
				return nil, err
			}
			deep[list] = append(deep[list], c)
		}
	}
	perWorker := func(rest func(o, worker int) string) func(int) request {
		return func(i int) request { o := orgs[i%len(orgs)]; return get(o, rest(o, i)) }
	}
	page := func(list string) func(int) request {
		return perWorker(func(int, int) string { return list + "?limit=50" })
	}
	deepPage := func(list string) func(int) request {
		return func(i int) request {
			k := i % len(orgs)
			return get(orgs[k], list+"?limit=50&cursor="+url.QueryEscape(deep[list][k]))
		}
	}
	window := func(o int) string { // 100 ms of the org's events, from its middle
		since := seedEpoch.Add(timeOf(o*perEvents + perEvents/2))
		return "since=" + url.QueryEscape(since.Format(time.RFC3339Nano)) + "&until=" + url.QueryEscape(since.Add(timeOf(100)).Format(time.RFC3339Nano))
	}
	scs := []scenario{
		// Each worker reads at random among its own org's accounts, as that
		// org's admin: one caller per worker on both databases, so that the
		// caller's credential is cached on both and the ratio is the
		// lookup's own. (With a caller per request drawn from 1,000 orgs,
		// most requests would authenticate cold: the cold /check row.)
		{name: "get service account by ID", each: true, req: func(i int) request {
			o := workerOrg(p, i)
			return get(o, "/service-accounts/"+seedID(tollgate.PrefixServiceAccount, o*perOrg+rand.IntN(perOrg)))
		}},
		{name: "service accounts, first page", req: page("/service-accounts")},
		{name: "service accounts, deep page", req: deepPage("/service-accounts")},
		{name: "service accounts, search", req: perWorker(func(o, _ int) string { return "/service-accounts?limit=50&q=" + accountPrefix(p, o) })},
		{name: "API tokens, first page", req: page("/tokens")},
		{name: "API tokens, search", req: perWorker(func(int, int) string { return "/tokens?limit=50&q=token-3" })},
		{name: "API tokens, deep page", req: deepPage("/tokens")},
		{name: "API tokens of one owner", req: perWorker(func(o, i int) string {
			return "/tokens?limit=50&owner_id=" + seedID(tollgate.PrefixServiceAccount, o*perOrg+i*37%perOrg)
		})},
		{name: "audit log, first page", req: page("/audit-events")},
		{name: "audit log, deep page", req: deepPage("/audit-events")},
		{name: "audit log by actor", req: perWorker(func(int, int) string { return "/audit-events?limit=50&actor_id=usr_seed" })},
		{name: "audit log by action", req: perWorker(func(int, int) string { return "/audit-events?limit=50&action=" + tollgate.ActionTokenCreated })},
		{name: "audit log by target", req: perWorker(func(o, i int) string {
			return "/audit-events?limit=50&target_id=" + seedID(tollgate.PrefixServiceAccount, o*perOrg+i*37%perOrg)
		})},
		{name: "audit log by time range", req: perWorker(func(o, _ int) string { return "/audit-events?limit=50&" + window(o) })},
	}
	tag := fmt.Sprintf("-%08x", rand.Uint32()) // names of at most 20 characters

	endpoint, err := setUp(base, conns, tag)
	if err != nil {
		return nil, err
	}
	scs = append(scs, endpoint...)
	removal, ids, err := setUpMemberRemoval(base, tag)
	if err != nil {
		return nil, err
	}
	return &scaleWorld{scenarios: append(scs, removal), ids: ids}, nil
}

// accountPrefix is a name prefix of 100 of org o's accounts, from the
// middle of the org (all 100 of the small database's).
func accountPrefix(p seedPlan, o int) string {
	perOrg := p.accountsPerOrg()
	return fmt.Sprintf("sa-%05d", (o*perOrg+perOrg/2)/100)
}

// lastCursor walks the list at listURL a page of 50 at a time and returns
// the cursor of its last page.
func lastCursor(listURL, bearer string) (string, error) {
	cursor, last := "", ""
	for {
		u := listURL + "?limit=50"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Next *string `json:"next_cursor"`
		}
		if err := getJSON(u, bearer, &page); err != nil {
			return "", err
		}
		if page.Next == nil {
			if last == "" {
				return "", fmt.Errorf("%s has a single page", listURL)
			}
			return last, nil
		}
		last, cursor = *page.Next, *page.Next
	}
}

// getJSON decodes the 200 answer to a GET with a bearer credential.
func getJSON(u, bearer string, out any) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

// setUpMemberRemoval invites a member to the bootstrap org, gives them
// three imported tokens, and returns the removal the server must refuse
// with their count (A7), made as the bootstrap admin.
func setUpMemberRemoval(base, tag string) (scenario, planIDs, error) {
	a, err := signIn(base)
	if err != nil {
		return scenario{}, planIDs{}, err
	}
	var inv struct {
		Token string `json:"token"`
	}
	if err := a.call("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "owner" + tag + "@example.com", "role": "member"}, &inv); err != nil {
		return scenario{}, planIDs{}, err
	}
	var accepted struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	guest := &api{base: base, http: &http.Client{}}
	if err := guest.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "name": "Token Owner", "password": adminPassword}, &accepted); err != nil {
		return scenario{}, planIDs{}, err
	}
	for k := range 3 {
		legacy := fmt.Sprintf("legacy%s-%d-%016x", tag, k, rand.Uint64())
		if err := a.call("POST", "/api/v1/orgs/acme/tokens/import", map[string]string{"name": "legacy", "owner_user_id": accepted.User.ID, "token": legacy, "kind": "private"}, nil); err != nil {
			return scenario{}, planIDs{}, err
		}
	}
	var org struct {
		ID string `json:"id"`
	}
	if err := a.call("GET", "/api/v1/orgs/acme", nil, &org); err != nil {
		return scenario{}, planIDs{}, err
	}
	u, _ := url.Parse(base)
	var cookies []string
	for _, c := range a.http.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	cookie := strings.Join(cookies, "; ")
	target := base + "/api/v1/orgs/acme/members/" + accepted.User.ID
	return scenario{name: "member removal refused, owns 3", req: func(int) request {
		return request{method: "DELETE", url: target, cookie: cookie, status: http.StatusConflict}
	}}, planIDs{memberOrgID: org.ID, memberID: accepted.User.ID}, nil
}

// rotationScenario presents, to /check with its cache on, n distinct
// private tokens of the seed (at most all of them) spread evenly over it,
// one picked at random for each request: a gateway in front of many
// clients. It returns the scenario and how many distinct tokens it
// presents.
func rotationScenario(base string, p seedPlan, n int) (scenario, int) {
	n = min(n, p.tokens)
	stride := max(p.tokens/n, 1)
	distinct := map[int]bool{}
	for k := range n {
		distinct[privateIndex(k*stride)] = true
	}
	return scenario{name: manyTokens, each: true, req: func(int) request {
		v, _ := p.token(privateIndex(rand.IntN(n) * stride))
		return request{method: "GET", url: base + "/check", bearer: v}
	}}, len(distinct)
}

// randomTokenScenario presents a random private token of the seed to each
// /check, on a server whose cache trusts nothing.
func randomTokenScenario(base string, p seedPlan) scenario {
	return scenario{name: coldCheck, each: true, req: func(int) request {
		return request{method: "GET", url: base + "/check", bearer: privateToken(p, rand.IntN(p.tokens))}
	}}
}

// privateToken is the seed's n-th token, or the one before it when that is
// public (a public token needs an origin at /check).
func privateToken(p seedPlan, n int) string {
	v, _ := p.token(privateIndex(n))
	return v
}

// privateIndex is n, or n-1 when the seed's n-th token is public.
func privateIndex(n int) int {
	if isPublic(n) {
		return n - 1
	}
	return n
}

// count writes n as 1M, 10k or 1,000.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 10_000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// lookups are the credential cache's counters and size, scraped.
type lookups struct{ hits, misses, cached float64 }

var metricLine = regexp.MustCompile(`(?m)^(tollgate_auth_credential_cache_lookups_total\{result="(hit|miss)"\}|tollgate_auth_cached_credentials) (\S+)$`)

// scrapeLookups reads the credential cache's metrics from /metrics.
func scrapeLookups(base string) (lookups, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return lookups{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return lookups{}, fmt.Errorf("/metrics: %d %v", resp.StatusCode, err)
	}
	var l lookups
	for _, m := range metricLine.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[3], 64)
		switch m[2] {
		case "hit":
			l.hits = v
		case "miss":
			l.misses = v
		default:
			l.cached = v
		}
	}
	return l, nil
}

// memoryOf returns the resident set of process pid and its peak, from
// /proc (zero where there is none).
func memoryOf(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			peak = n << 10
		}
	}
	return rss, peak
}

// printScale prints the comparison table, the rotations' memory and hit
// rates, and the plans.
func printScale(w io.Writer, cfg scaleConfig, p seedPlan, ceiling result, small, large *scaleDB) {
	fmt.Fprintf(w, "tollgate-bench scale: %v per measurement after %v warm-up, %d connections; Tollgate log level %s, SQLite synchronous %s; load generator and servers share this machine\n",
		cfg.duration, cfg.warmup, cfg.conns, cfg.logLevel, cfg.sync)
	fmt.Fprintf(w, "seeded: %d orgs, %s service accounts, %s API tokens, %s audit events; small: %d org, %s accounts, %s tokens, %s events\n",
		p.orgs, count(p.accounts), count(p.tokens), count(p.events), smallPlan.orgs, count(smallPlan.accounts), count(smallPlan.tokens), count(smallPlan.events))
	fmt.Fprintf(w, "ceiling (minimal net/http handler): %.0f req/s, p99 %s\n\n", ceiling.rps, ms(ceiling.p99))
	fmt.Fprintf(w, "%-42s %9s %9s %9s %9s %7s %8s %7s\n", "operation", "small/s", "p99", "seeded/s", "p99", "scale", "ceiling", "errors")
	within, compared := 0, 0
	for i, s := range small.ops {
		l := large.ops[i]
		ratio := "-"
		if s.rps > 0 {
			r := l.rps / s.rps
			ratio = fmt.Sprintf("%.0f%%", 100*r)
			if !strings.HasPrefix(s.name, manyTokens) { // Z2: reported, not compared
				compared++
				if r >= 0.8 {
					within++
				}
			}
		}
		fmt.Fprintf(w, "%-42s %9.0f %9s %9.0f %9s %7s %7.0f%% %7d\n", s.name, s.rps, ms(s.p99), l.rps, ms(l.p99), ratio, 100*l.rps/ceiling.rps, s.errors+l.errors)
		for _, e := range []string{s.firstErr, l.firstErr} {
			if e != "" {
				fmt.Fprintf(w, "    first error: %s\n", e)
			}
		}
	}
	fmt.Fprintf(w, "\n%d of %d operations at scale are within 80%% of their 1,000-row rate (the many-token /check is reported, not compared).\n", within, compared)
	for _, d := range []*scaleDB{small, large} {
		for _, r := range d.rotations {
			total := r.hits + r.misses
			rate := 0.0
			if total > 0 {
				rate = 100 * r.hits / total
			}
			fmt.Fprintf(w, "%s: /check over %s distinct tokens, cache TTL %s: hit rate %.1f%% of %.0f look-ups, %.0f credentials cached; server RSS %s (peak %s)\n",
				d.name, count(r.distinct), r.ttl, rate, total, r.cached, mib(r.rss), mib(r.peakRSS))
		}
	}
	fmt.Fprintf(w, "\nplans at scale (every statement behind the operations, explained on the seeded database):\n")
	bad := 0
	for _, pc := range large.plans {
		if pc.problem != "" {
			bad++
			fmt.Fprintf(w, "  %-30s %s\n      %s\n      %s\n", pc.op, pc.problem, pc.sql, strings.Join(pc.plan, "; "))
		}
	}
	fmt.Fprintf(w, "  %d statements explained, %d without a full scan of a large table or an OFFSET\n", len(large.plans), len(large.plans)-bad)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
