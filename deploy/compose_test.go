// Package deploy tests the deployment files of this directory: compose.yaml
// here, the Helm chart in helm/ and the systemd unit in systemd/.
package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/tollgate/tollgate/deploy/internal/deploytest"
)

// devDefaults are the only secret values compose.yaml may carry, each
// documented in its header as for development only.
var devDefaults = []string{"tollgate-dev", ""}

// loadCompose loads compose.yaml as docker compose would, interpolating
// from env only.
func loadCompose(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "compose.yaml")}},
		Environment: env,
	})
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %s in compose.yaml", name)
	}
	return s
}

// environment is a service's variables with their values ("" for unset).
func environment(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

var replicas = []string{"tollgate-a", "tollgate-b"}

// TestComposeFile checks compose.yaml's topology: PostgreSQL with a health
// check, the one-shot keygen, and two replicas started after both, with
// the same database, key file and issuer, on loopback ports.
func TestComposeFile(t *testing.T) {
	p := loadCompose(t, map[string]string{})
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if got := strings.Join(names, " "); got != "keygen postgres tollgate-a tollgate-b" {
		t.Fatalf("services %s", got)
	}
	pg := service(t, p, "postgres")
	if pg.Image != "postgres:15" || pg.HealthCheck == nil || !strings.Contains(strings.Join(pg.HealthCheck.Test, " "), "pg_isready") {
		t.Errorf("postgres: image %q, healthcheck %+v", pg.Image, pg.HealthCheck)
	}
	pgEnv := environment(pg)

	kg := service(t, p, "keygen")
	if kg.Restart != "no" || kg.NetworkMode != "none" || len(kg.Volumes) != 1 || kg.Volumes[0].Source != "tollgate-key" || kg.Volumes[0].Target != "/keys" || kg.Volumes[0].ReadOnly {
		t.Errorf("keygen: restart %q, network %q, volumes %+v", kg.Restart, kg.NetworkMode, kg.Volumes)
	}

	var first map[string]string
	for i, name := range replicas {
		s := service(t, p, name)
		if s.Image != "ghcr.io/tollgate/tollgate:latest" || strings.Join(s.Command, " ") != "serve" {
			t.Errorf("%s: image %q, command %q", name, s.Image, s.Command)
		}
		if d := s.DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: depends on postgres %+v, want service_healthy", name, d)
		}
		if d := s.DependsOn["keygen"]; d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: depends on keygen %+v, want service_completed_successfully", name, d)
		}
		if len(s.DependsOn) != 2 {
			t.Errorf("%s: depends on %v", name, s.DependsOn)
		}
		if s.HealthCheck == nil || strings.Join(s.HealthCheck.Test, " ") != "CMD tollgate healthcheck" {
			t.Errorf("%s: healthcheck %+v", name, s.HealthCheck)
		}
		if s.User != "65532:65532" || !s.ReadOnly || fmt.Sprint(s.CapDrop) != "[ALL]" || s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= 35*time.Second {
			t.Errorf("%s: user %q, read_only %v, cap_drop %v, stop_grace_period %v", name, s.User, s.ReadOnly, s.CapDrop, s.StopGracePeriod)
		}
		if len(s.Ports) != 1 || s.Ports[0].HostIP != "127.0.0.1" || s.Ports[0].Target != 8080 || s.Ports[0].Published != fmt.Sprint(8081+i) {
			t.Errorf("%s: ports %+v, want 127.0.0.1:%d:8080", name, s.Ports, 8081+i)
		}
		e := environment(s)
		if len(s.Volumes) != 1 || s.Volumes[0].Source != "tollgate-key" || !s.Volumes[0].ReadOnly ||
			filepath.Dir(e["TOLLGATE_KEY_FILE"]) != s.Volumes[0].Target {
			t.Errorf("%s: volumes %+v, TOLLGATE_KEY_FILE %q: the key file must be on the keygen volume, read-only", name, s.Volumes, e["TOLLGATE_KEY_FILE"])
		}
		if e["TOLLGATE_ADDR"] != "0.0.0.0:8080" {
			t.Errorf("%s: TOLLGATE_ADDR %q", name, e["TOLLGATE_ADDR"])
		}
		db, err := url.Parse(e["TOLLGATE_DB"])
		if err != nil || db.Scheme != "postgres" || db.Host != "postgres:5432" || db.User.Username() != pgEnv["POSTGRES_USER"] ||
			db.Path != "/"+pgEnv["POSTGRES_DB"] {
			t.Errorf("%s: TOLLGATE_DB %q does not name the postgres service's database", name, e["TOLLGATE_DB"])
		} else if pw, _ := db.User.Password(); pw != pgEnv["POSTGRES_PASSWORD"] {
			t.Errorf("%s: TOLLGATE_DB's password is not the postgres service's", name)
		}
		if first == nil {
			first = e
		} else if fmt.Sprint(e) != fmt.Sprint(first) {
			t.Errorf("the replicas' environments differ:\n%v\n%v", first, e)
		}
	}
	if first["TOLLGATE_ISSUER"] != "http://127.0.0.1:8081" {
		t.Errorf("TOLLGATE_ISSUER %q", first["TOLLGATE_ISSUER"])
	}
	checkNoSecrets(t, p)

	// Every default can be overridden from the environment.
	p = loadCompose(t, map[string]string{"POSTGRES_PASSWORD": "pw-from-env", "TOLLGATE_IMAGE": "registry.example.com/tollgate:1.2.3",
		"TOLLGATE_ISSUER": "https://auth.example.com", "TOLLGATE_BOOTSTRAP_PASSWORD": "bootstrap-from-env"})
	for _, name := range replicas {
		s := service(t, p, name)
		e := environment(s)
		if s.Image != "registry.example.com/tollgate:1.2.3" || !strings.Contains(e["TOLLGATE_DB"], ":pw-from-env@") ||
			e["TOLLGATE_ISSUER"] != "https://auth.example.com" || e["TOLLGATE_BOOTSTRAP_PASSWORD"] != "bootstrap-from-env" {
			t.Errorf("%s does not take the environment: image %q, env %v", name, s.Image, e)
		}
	}
	if environment(service(t, p, "postgres"))["POSTGRES_PASSWORD"] != "pw-from-env" {
		t.Error("postgres does not take POSTGRES_PASSWORD")
	}
}

var secretName = regexp.MustCompile(`(?i)PASSWORD|SECRET|TOKEN|PASSPHRASE|_KEY$`)

// checkNoSecrets fails on any secret in a service's environment (a
// variable named like one, or a URL's password) other than devDefaults.
func checkNoSecrets(t *testing.T, p *types.Project) {
	t.Helper()
	for name, s := range p.Services {
		for k, v := range environment(s) {
			if secretName.MatchString(k) && !slices.Contains(devDefaults, v) {
				t.Errorf("%s: %s carries a secret value %q; only the dev defaults %q may be written in compose.yaml", name, k, v, devDefaults)
			}
			if u, err := url.Parse(v); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && !slices.Contains(devDefaults, pw) {
					t.Errorf("%s: %s has a password in its URL that is not a dev default", name, k)
				}
			}
		}
	}
}

// keygenScript returns keygen's shell script with its volume at dir.
func keygenScript(t *testing.T, p *types.Project, dir string) []string {
	t.Helper()
	kg := service(t, p, "keygen")
	argv := append(slices.Clone([]string(kg.Entrypoint)), kg.Command...)
	if len(argv) != 3 || argv[0] != "/bin/sh" || argv[1] != "-c" {
		t.Fatalf("keygen runs %q, want /bin/sh -c SCRIPT", argv)
	}
	return []string{"sh", "-c", strings.ReplaceAll(argv[2], kg.Volumes[0].Target+"/", dir+"/")}
}

// runKeygen runs keygen's script as the container would (as root) on dir,
// and returns the key file's path.
func runKeygen(t *testing.T, p *types.Project, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("keygen chowns the key file to 65532: run as root")
	}
	argv := keygenScript(t, p, dir)
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	return filepath.Join(dir, "tollgate.key")
}

// TestKeygen runs keygen's script: one key file of 32 random bytes in
// hex, 0400, owned by 65532, and a second run leaves it as it is.
func TestKeygen(t *testing.T) {
	p := loadCompose(t, map[string]string{})
	dir := t.TempDir()
	path := runKeygen(t, p, dir)
	key, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(key) {
		t.Fatalf("key file %q is not 32 bytes as hex", key)
	}
	fi, _ := os.Stat(path)
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o400 || st.Uid != 65532 || st.Gid != 65532 {
		t.Errorf("key file mode %v owner %d:%d, want 0400 65532:65532", fi.Mode().Perm(), st.Uid, st.Gid)
	}
	runKeygen(t, p, dir)
	if again, _ := os.ReadFile(path); !bytes.Equal(again, key) {
		t.Fatal("a second keygen run replaced the key file")
	}
	if other := runKeygen(t, p, t.TempDir()); bytes.Equal(must(os.ReadFile(other)), key) {
		t.Fatal("two keygen runs on empty volumes wrote the same key")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("keygen left %v", entries)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestComposeTopology runs compose.yaml's topology as processes: the key
// file from keygen's script, two "tollgate serve" with the replicas'
// environment from compose.yaml (the database, key file and addresses
// rewritten to this machine's), started at once against one fresh
// PostgreSQL schema. One bootstraps; a service account made through
// replica A gets the same client_credentials token from A and from B.
func TestComposeTopology(t *testing.T) {
	dbURL := deploytest.PostgresURL(t)
	bin := deploytest.Build(t)
	p := loadCompose(t, map[string]string{})

	keyDir := t.TempDir()
	var keyFile string
	if os.Geteuid() == 0 {
		keyFile = runKeygen(t, p, keyDir)
	} else {
		keyFile = filepath.Join(keyDir, "tollgate.key")
		if err := os.WriteFile(keyFile, []byte(strings.Repeat("5a", 32)+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	// The published loopback addresses become free ports here.
	addrs := map[string]string{}
	published := map[string]string{}
	for _, name := range replicas {
		s := service(t, p, name)
		addrs[name] = deploytest.FreeAddr(t)
		published[s.Ports[0].HostIP+":"+s.Ports[0].Published] = addrs[name]
	}
	rewrite := func(name string) map[string]string {
		e := environment(service(t, p, name))
		for k, v := range e {
			for from, to := range published {
				v = strings.ReplaceAll(v, from, to)
			}
			e[k] = v
		}
		e["TOLLGATE_DB"] = dbURL
		e["TOLLGATE_KEY_FILE"] = keyFile
		e["TOLLGATE_ADDR"] = addrs[name]
		return e
	}
	envs := map[string]map[string]string{}
	procs := map[string]*deploytest.Process{}
	for _, name := range replicas {
		envs[name] = rewrite(name)
		s := service(t, p, name)
		procs[name] = deploytest.Start(t, name, "http://"+addrs[name], envs[name], append([]string{bin}, s.Command...)...)
	}
	a, b := procs["tollgate-a"], procs["tollgate-b"]
	a.WaitReady(t)
	b.WaitReady(t)
	if envs["tollgate-a"]["TOLLGATE_ISSUER"] != a.URL {
		t.Fatalf("issuer %q was not rewritten to replica A's %s", envs["tollgate-a"]["TOLLGATE_ISSUER"], a.URL)
	}

	// compose.yaml's health check, run as Docker would in each container.
	for _, name := range replicas {
		test := service(t, p, name).HealthCheck.Test
		cmd := exec.Command(bin, test[2:]...)
		for k, v := range envs[name] {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ready" {
			t.Errorf("%s: %q: %v %s", name, test, err, out)
		}
	}

	// Exactly one replica bootstrapped, with the generated password.
	var password string
	for _, proc := range []*deploytest.Process{a, b} {
		if pw := proc.BootstrapPassword(); pw != "" {
			if password != "" {
				t.Fatalf("both replicas bootstrapped\nA:\n%s\nB:\n%s", a.Stderr, b.Stderr)
			}
			password = pw
		}
	}
	if password == "" {
		t.Fatalf("no replica printed the bootstrap password\nA:\n%s\nB:\n%s", a.Stderr, b.Stderr)
	}
	email := envs["tollgate-a"]["TOLLGATE_BOOTSTRAP_EMAIL"]
	adminA := deploytest.SignIn(t, a.URL, email, password)
	sa := adminA.Do("POST", "/api/v1/orgs/acme/service-accounts", map[string]any{"name": "robot", "role": "member", "token_ttl_seconds": 3600}, 201)
	id, secret := sa["id"].(string), sa["client_secret"].(string)

	fromA := deploytest.ClientCredentials(t, a.URL, id, secret)
	fromB := deploytest.ClientCredentials(t, b.URL, id, secret)
	if fromA["access_token"] != fromB["access_token"] {
		t.Fatalf("replica B handed out another token than A: the replicas do not share the database and key file\nA: %v\nB: %v", fromA, fromB)
	}
	if in := deploytest.Introspect(t, b.URL, id, secret, fromA["access_token"].(string)); in["active"] != true || in["iss"] != a.URL {
		t.Fatalf("replica B's introspection of A's token: %v", in)
	}
	// B's admin API sees what A made.
	adminB := deploytest.SignIn(t, b.URL, email, password)
	if got := adminB.Do("GET", "/api/v1/orgs/acme/service-accounts/"+id, nil, 200); got["name"] != "robot" {
		t.Fatalf("replica B: %v", got)
	}

	// docker compose down: SIGTERM to both at once; each drains and exits 0.
	var wg sync.WaitGroup
	for _, proc := range procs {
		wg.Go(func() {
			if err := proc.Stop(); err != nil {
				t.Errorf("%s: %v\n%s", proc.Name, err, proc.Stderr)
			}
		})
	}
	wg.Wait()
}
