// Package systemd tests tollgate.service: its hardening, systemd's own
// verdict on it (systemd-analyze), and a run of its commands with the
// environment and directories systemd would give them.
package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/deploy/internal/deploytest"
)

// unit is a parsed unit file: section → key → values in order.
type unit map[string]map[string][]string

// parseUnit reads a unit file as systemd does: [Section] headers,
// Key=Value lines, comments starting with # or ;, and a trailing backslash
// continuing a line.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	var pending string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: %q is not Key=Value in a section", path, n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		u[section][k] = append(u[section][k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// one returns the single value of a key, failing when it is set more than
// once or not at all.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	vs := u[section][key]
	if len(vs) != 1 {
		t.Errorf("[%s] %s is set %d times: %q", section, key, len(vs), vs)
		return ""
	}
	return vs[0]
}

// environment returns the unit's Environment= assignments, with %S, %d
// and %% expanded as systemd would for the given directories.
func (u unit) environment(t *testing.T, stateRoot, credentials string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range u["Service"]["Environment"] {
		for _, a := range strings.Fields(line) {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				t.Fatalf("Environment=%s", line)
			}
			out[k] = expand(t, v, stateRoot, credentials)
		}
	}
	return out
}

var specifier = regexp.MustCompile(`%.`)

func expand(t *testing.T, v, stateRoot, credentials string) string {
	t.Helper()
	return specifier.ReplaceAllStringFunc(v, func(s string) string {
		switch s {
		case "%S":
			return stateRoot
		case "%d":
			return credentials
		case "%%":
			return "%"
		}
		t.Fatalf("specifier %s in %q is not one this test knows", s, v)
		return ""
	})
}

const unitFile = "tollgate.service"

// TestHardening checks the unit's settings: who it runs as, its
// directories and credential, and the sandbox.
func TestHardening(t *testing.T) {
	u := parseUnit(t, unitFile)
	for key, want := range map[string]string{
		"DynamicUser":             "yes",
		"StateDirectory":          "tollgate",
		"StateDirectoryMode":      "0700",
		"LoadCredential":          "tollgate.key:/etc/tollgate/tollgate.key",
		"EnvironmentFile":         "-/etc/tollgate/tollgate.env",
		"ExecStart":               "/usr/local/bin/tollgate serve",
		"ExecStartPre":            "/usr/local/bin/tollgate migrate",
		"Restart":                 "on-failure",
		"UMask":                   "0077",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"RestrictNamespaces":      "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallArchitectures": "native",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if f := u["Service"]["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
		t.Errorf("SystemCallFilter=%q, want @system-service first", f)
	}
	env := u.environment(t, "/var/lib", "/run/credentials/tollgate.service")
	if env["TOLLGATE_KEY_FILE"] != "/run/credentials/tollgate.service/tollgate.key" || env["TOLLGATE_DB"] != "/var/lib/tollgate/tollgate.db" {
		t.Errorf("environment %v: the key file must be the credential and the database in the state directory", env)
	}
	// TimeoutStopSec must outlast the 5s drain and 30s of in-flight requests.
	stop := u.one(t, "Service", "TimeoutStopSec")
	d, err := time.ParseDuration(stop)
	if n, nerr := strconv.Atoi(stop); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d <= 35*time.Second {
		t.Errorf("TimeoutStopSec=%s is not above 35s", stop)
	}
	if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s", got)
	}
}

// installed writes the unit with /usr/local/bin/tollgate replaced by bin
// (systemd-analyze verify checks that the binary exists) and returns its
// path.
func installed(t *testing.T, bin string) string {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/tollgate", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSystemdAnalyze runs systemd-analyze verify on the unit, and its
// offline security review, which must rate the exposure 2.0 or lower (of
// 10; 1.4 when written).
func TestSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze on this machine")
	}
	path := installed(t, deploytest.Build(t))
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), unitFile) {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: the exposure is above 2.0: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for tollgate.service: ([0-9.]+)`).FindSubmatch(out); m == nil {
		t.Fatalf("systemd-analyze security said:\n%s", out)
	} else {
		t.Logf("exposure %s", m[1])
	}
}

// TestRunsLikeSystemd runs ExecStartPre and ExecStart with the unit's
// environment, as systemd would start them: the key file loaded into a
// credentials directory (CREDENTIALS_DIRECTORY, %d), the state directory
// made 0700 (STATE_DIRECTORY, %S/tollgate), and UMask applied. The
// server answers /readyz, uses the credential as its key file, keeps its
// files private, and exits 0 on SIGTERM.
func TestRunsLikeSystemd(t *testing.T) {
	bin := deploytest.Build(t)
	u := parseUnit(t, unitFile)

	// /etc/tollgate/tollgate.key, and LoadCredential's copy of it.
	etc := t.TempDir()
	key := strings.Repeat("c3", 32) + "\n"
	if err := os.WriteFile(filepath.Join(etc, "tollgate.key"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	credentials := t.TempDir()
	name, source, _ := strings.Cut(u.one(t, "Service", "LoadCredential"), ":")
	b, err := os.ReadFile(strings.Replace(source, "/etc/tollgate", etc, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(credentials, name), b, 0o400); err != nil {
		t.Fatal(err)
	}
	stateRoot := t.TempDir()
	mode, _ := strconv.ParseUint(u.one(t, "Service", "StateDirectoryMode"), 8, 32)
	stateDir := filepath.Join(stateRoot, u.one(t, "Service", "StateDirectory"))
	if err := os.Mkdir(stateDir, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}

	env := u.environment(t, stateRoot, credentials)
	env["CREDENTIALS_DIRECTORY"] = credentials
	env["STATE_DIRECTORY"] = stateDir
	addr := deploytest.FreeAddr(t)
	env["TOLLGATE_ADDR"] = addr
	umask := u.one(t, "Service", "UMask")
	// argv runs a command line of the unit with its binary replaced and
	// its umask set, as systemd does before exec.
	argv := func(line string) []string {
		f := strings.Fields(line)
		if f[0] != "/usr/local/bin/tollgate" {
			t.Fatalf("%q does not run /usr/local/bin/tollgate", line)
		}
		return append([]string{"sh", "-c", `umask "$0" && exec "$@"`, umask, bin}, f[1:]...)
	}

	pre := argv(u.one(t, "Service", "ExecStartPre"))
	cmd := exec.Command(pre[0], pre[1:]...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ExecStartPre: %v\n%s", err, out)
	}

	p := deploytest.Start(t, "tollgate.service", "http://"+addr, env, argv(u.one(t, "Service", "ExecStart"))...)
	p.WaitReady(t)
	if !strings.Contains(p.Stderr.String(), "First start") {
		t.Errorf("no bootstrap on the empty database:\n%s", p.Stderr)
	}
	if strings.Contains(p.Stderr.String(), "key file") {
		t.Errorf("the server said something about its key file:\n%s", p.Stderr)
	}
	// The key file is the credential: none was created in the state directory.
	entries, err := os.ReadDir(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, _ := e.Info()
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is mode %v: UMask=%s should keep it private", e.Name(), fi.Mode().Perm(), umask)
		}
		if e.Name() == "tollgate.key" {
			t.Error("serve created a key file in the state directory instead of using the credential")
		}
	}
	if !strings.Contains(strings.Join(names, " "), "tollgate.db") {
		t.Errorf("state directory holds %v, want the database", names)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.Stderr)
	}
}

// TestEnvExample checks tollgate.env: every line is a comment or a
// KEY=VALUE, and every variable it names (set or commented out) is one
// that "tollgate serve" reads: a flag's (serve -h) or one the command
// reads by name (TOLLGATE_BOOTSTRAP_*).
func TestEnvExample(t *testing.T) {
	help, _ := exec.Command(deploytest.Build(t), "serve", "-h").CombinedOutput()
	src, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(t), "cmd", "tollgate", "serve.go"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("tollgate.env")
	if err != nil {
		t.Fatal(err)
	}
	assign := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=\S*$`)
	seen := 0
	for n, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if m := assign.FindStringSubmatch(line); m != nil {
			seen++
			if !strings.Contains(string(help), "env "+m[1]+")") && !strings.Contains(string(help), "env "+m[1]+";") &&
				!strings.Contains(string(src), `getenv("`+m[1]+`")`) && !strings.Contains(string(src), `envOr(getenv, "`+m[1]+`"`) {
				t.Errorf("tollgate.env:%d: %s is not a variable of tollgate serve", n+1, m[1])
			}
			continue
		}
		if line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			t.Errorf("tollgate.env:%d: %q is neither a comment nor KEY=VALUE", n+1, line)
		}
	}
	if seen < 5 {
		t.Fatalf("tollgate.env names %d variables", seen)
	}
}
