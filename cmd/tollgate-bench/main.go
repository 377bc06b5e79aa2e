// Command tollgate-bench measures Tollgate's hot paths against the
// practical ceiling of the machine: a minimal net/http handler returning a
// fixed small JSON body, measured in the same run by the same load
// generator over loopback.
//
//	go run ./cmd/tollgate-bench                       # Tollgate on SQLite
//	go run ./cmd/tollgate-bench --duration 10s --conns 16,64
//	go run ./cmd/tollgate-bench --token-url https://peer/oauth/token --client-id … --client-secret …
//	go run ./cmd/tollgate-bench seed --db /tmp/scale.db   # 1M accounts, 10M tokens, 10M audit events
//	go run ./cmd/tollgate-bench scale --db /tmp/scale.db  # each operation there against a 1,000-row database
//	go run ./cmd/tollgate-bench replicas --db postgres://…  # two replicas on one database, the load split
//
// It builds cmd/tollgate, starts it on a fresh SQLite database and the
// minimal handler in separate processes, creates service accounts through
// the admin API, and prints requests/s, p50, p99 and the ratio to the
// minimal handler for: the token endpoint's reuse path, minting,
// introspection, /check, and the secretless methods (private_key_jwt and
// token exchange, each beside the in-process cost of the one signature
// check it needs). With --token-url it measures that token endpoint the same
// way (client_secret_post), so peers can be compared.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "minimal-server" {
		minimalServer()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmd := run
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			cmd, args = runSeed, args[1:]
		case "scale":
			cmd, args = runScale, args[1:]
		case "replicas":
			cmd, args = runReplicas, args[1:]
		}
	}
	if err := cmd(ctx, args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate-bench:", err)
		os.Exit(1)
	}
}

// minimalServer is the ceiling: the least an HTTP server can do.
func minimalServer() {
	body := []byte(`{"status":"ok"}` + "\n")
	srv := &http.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	ln, err := listen()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("Tollgate is listening on %s\n", ln.Addr()) // same banner shape as Tollgate's
	srv.Serve(ln)
}

type config struct {
	duration time.Duration
	warmup   time.Duration
	conns    []int
	bin      string
	tokenURL string
	clientID string
	secret   string
	logLevel string
	sync     string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollgate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var conns string
	commonFlags(fs, &cfg, "measured time per scenario and connection count")
	fs.StringVar(&conns, "conns", "16,64", "connection counts, comma-separated")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "Tollgate's --log-level: info writes one line per request, as by default")
	fs.StringVar(&cfg.sync, "sqlite-synchronous", "FULL", "Tollgate's --sqlite-synchronous, to measure what durability costs minting")
	fs.StringVar(&cfg.tokenURL, "token-url", "", "measure this OAuth 2.0 token endpoint instead of Tollgate's scenarios")
	fs.StringVar(&cfg.clientID, "client-id", "", "client ID for --token-url")
	fs.StringVar(&cfg.secret, "client-secret", "", "client secret for --token-url")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, c := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("--conns: %q is not a connection count from 1 to 1024", c)
		}
		cfg.conns = append(cfg.conns, n)
	}
	if cfg.duration <= 0 || cfg.duration > 5*time.Minute {
		return errors.New("--duration must be between 0 and 5m")
	}

	minimal, err := startMinimal(ctx)
	if err != nil {
		return err
	}
	defer minimal.stop()

	var scenarios []scenario
	var costs map[string]time.Duration // of one signature check, by scenario
	if cfg.tokenURL != "" {
		if cfg.clientID == "" || cfg.secret == "" {
			return errors.New("--token-url needs --client-id and --client-secret")
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.clientID}, "client_secret": {cfg.secret}}.Encode()
		scenarios = []scenario{{name: "token endpoint " + cfg.tokenURL, req: func(int) request {
			return request{method: "POST", url: cfg.tokenURL, body: form, contentType: formType}
		}}}
	} else {
		if err := cfg.build(ctx, stderr); err != nil {
			return err
		}
		is, err := startIssuer()
		if err != nil {
			return err
		}
		tg, err := startTollgate(ctx, cfg.bin, stderr, "--log-level", cfg.logLevel, "--sqlite-synchronous", cfg.sync,
			"--federation-insecure-issuers", is.url)
		if err != nil {
			return err
		}
		defer tg.stop()
		if scenarios, err = setUp(tg.base, slices.Max(cfg.conns), ""); err != nil {
			return fmt.Errorf("setting up Tollgate: %w", err)
		}
		secretless, err := setUpSecretless(tg.base, is, slices.Max(cfg.conns))
		if err != nil {
			return fmt.Errorf("setting up the secretless scenarios: %w", err)
		}
		scenarios = append(scenarios, secretless...)
		costs = verifyCost(stdout)
		// A second Tollgate that trusts no cache entry for more than 1 ns.
		cold, err := startTollgate(ctx, cfg.bin, stderr, "--log-level", cfg.logLevel, "--sqlite-synchronous", cfg.sync, "--cache-ttl", "1ns")
		if err != nil {
			return err
		}
		defer cold.stop()
		more, err := setUpCold(cold.base)
		if err != nil {
			return fmt.Errorf("setting up the cold-cache Tollgate: %w", err)
		}
		scenarios = append(scenarios, more...)
	}

	fmt.Fprintf(stdout, "tollgate-bench: %d s per measurement after %v warm-up; Tollgate log level %s, SQLite synchronous %s; load generator and servers share this machine\n\n",
		int(cfg.duration.Seconds()), cfg.warmup, cfg.logLevel, cfg.sync)
	fmt.Fprintf(stdout, "%-34s %6s %10s %9s %9s %8s %7s\n", "scenario", "conns", "req/s", "p50", "p99", "errors", "ratio")
	for _, n := range cfg.conns {
		ceiling := measure(ctx, "minimal net/http handler", n, cfg, func(int) request {
			return request{method: "GET", url: minimal.base + "/"}
		}, false)
		ceiling.print(stdout, 0)
		var reuseRPS float64
		for _, sc := range scenarios {
			res := measure(ctx, sc.name, n, cfg, sc.req, sc.each)
			res.print(stdout, ceiling.rps)
			if sc.name == "token endpoint, reused token" {
				reuseRPS = res.rps
			}
			if c, ok := costs[sc.name]; ok && reuseRPS > 0 && res.rps > 0 {
				fmt.Fprintf(stdout, "    one signature check %s; everything else beyond the reuse path %s a request\n", us(c), us(extraCost(res.rps, reuseRPS, c)))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// startMinimal starts the ceiling, this program as "minimal-server", in a
// process of its own.
func startMinimal(ctx context.Context) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := start(ctx, exec.Command(self, "minimal-server"))
	if err != nil {
		return nil, fmt.Errorf("minimal server: %w", err)
	}
	return p, nil
}

// commonFlags declares the flags every measuring subcommand has.
func commonFlags(fs *flag.FlagSet, cfg *config, duration string) {
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, duration)
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	fs.StringVar(&cfg.bin, "tollgate-bin", "", "a built tollgate binary (default: go build ./cmd/tollgate)")
}

// process is a server started by the benchmark.
type process struct {
	cmd   *exec.Cmd
	base  string
	admin string // the admin listener's address, when one was asked for
}

// metricsBase is where p serves /metrics: on its admin listener when it
// has one.
func (p *process) metricsBase() string {
	if p.admin != "" {
		return "http://" + p.admin
	}
	return p.base
}

var listeningRE = regexp.MustCompile(`Tollgate is listening on (127\.0\.0\.1:\d+)`)

// start runs cmd and waits for its "listening on" line on stdout or stderr.
func start(ctx context.Context, cmd *exec.Cmd) (*process, error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr) // keep draining: a full pipe would block the server
	}()
	select {
	case addr := <-found:
		p.base = "http://" + addr
		return p, nil
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, errors.New("server did not start")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
}

const (
	adminPassword = "bench-admin-password"
	formType      = "application/x-www-form-urlencoded"
)

// build builds cmd/tollgate unless --tollgate-bin named a binary.
func (c *config) build(ctx context.Context, stderr io.Writer) error {
	if c.bin != "" {
		return nil
	}
	var err error
	c.bin, err = buildTollgate(ctx, stderr)
	return err
}

// buildTollgate builds cmd/tollgate into a temporary directory.
func buildTollgate(ctx context.Context, stderr io.Writer) (string, error) {
	dir, err := os.MkdirTemp("", "tollgate-bench-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tollgate")
	fmt.Fprintln(stderr, "building cmd/tollgate…")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tollgate/tollgate/cmd/tollgate")
	build.Stderr = stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// startTollgate starts Tollgate on a fresh SQLite database in a temporary
// directory, with extra serve flags.
func startTollgate(ctx context.Context, bin string, stderr io.Writer, flags ...string) (*process, error) {
	dir, err := os.MkdirTemp("", "tollgate-bench-")
	if err != nil {
		return nil, err
	}
	return serveOn(ctx, bin, filepath.Join(dir, "bench.db"), flags...)
}

// serveOn starts Tollgate on the database db, with extra serve flags. The
// first admin, made if db has no user yet, signs in with adminPassword.
func serveOn(ctx context.Context, bin, db string, flags ...string) (*process, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--shutdown-drain", "0"}, flags...)...)
	cmd.Env = append(os.Environ(), "TOLLGATE_BOOTSTRAP_PASSWORD="+adminPassword)
	p, err := start(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("tollgate: %w", err)
	}
	return p, nil
}
