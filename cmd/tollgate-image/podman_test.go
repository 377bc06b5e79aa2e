package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman runs the podman of TOLLGATE_TEST_PODMAN, with the OCI runtime of
// TOLLGATE_TEST_PODMAN_RUNTIME when set (runc where crun cannot use the
// host's cgroups), and returns its stdout, and stderr in the error.
type podman struct {
	bin     string
	runtime string
}

func (p podman) run(args ...string) (string, error) {
	if p.runtime != "" {
		args = append([]string{"--runtime", p.runtime}, args...)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), err
}

// runLimits keep the container's limits below podman's defaults, which
// some sandboxes' hard limits are under (crun then cannot set them).
var runLimits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

// TestPodman loads the image into podman and runs it as built: its
// version, then serve with the image's own command, environment and
// volume, until podman's run of the image's healthcheck passes; and checks
// that the server runs as nonroot with the data directory a volume. The
// container has its own network namespace with loopback only.
//
// It runs when TOLLGATE_TEST_PODMAN names a podman binary; a podman that
// cannot run a container skips it, unless TOLLGATE_TEST_PODMAN_REQUIRED=1.
func TestPodman(t *testing.T) {
	required := os.Getenv("TOLLGATE_TEST_PODMAN_REQUIRED") == "1"
	bin := os.Getenv("TOLLGATE_TEST_PODMAN")
	if bin == "" {
		if required {
			t.Fatal("TOLLGATE_TEST_PODMAN_REQUIRED=1 but TOLLGATE_TEST_PODMAN is not set")
		}
		t.Skip("TOLLGATE_TEST_PODMAN is not set")
	}
	p := podman{bin: bin, runtime: os.Getenv("TOLLGATE_TEST_PODMAN_RUNTIME")}
	tag := "localhost/tollgate-imagetest:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	_, out := buildImage(t, nil, "--tag", tag)
	if _, err := p.run("load", "-i", out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.run("rmi", "-f", tag) })

	v, err := p.run(append(append([]string{"run", "--rm", "--network=none"}, runLimits...), tag, "version")...)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() >= 125 { // podman's or the runtime's own failure
		if required {
			t.Fatalf("podman cannot run a container: %v", err)
		}
		t.Skipf("podman cannot run a container here: %v", err)
	}
	if err != nil || v != "tollgate "+testVersion {
		t.Fatalf("version in the container: %q %v", v, err)
	}

	ctr := strings.ReplaceAll(tag[strings.LastIndexByte(tag, ':')+1:], ".", "-") + "-serve"
	args := append([]string{"run", "-d", "--name", ctr, "--network=none", "-e", "TOLLGATE_BOOTSTRAP_PASSWORD=" + testPassword}, runLimits...)
	if _, err := p.run(append(args, tag)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.run("rm", "-f", "-v", ctr) })
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := p.run("healthcheck", "run", ctr)
		if err == nil {
			break
		}
		if state, _ := p.run("inspect", "--format", "{{.State.Status}}", ctr); state != "running" || time.Now().After(deadline) {
			logs, _ := p.run("logs", ctr)
			t.Fatalf("healthcheck never passed (container %s): %v\n%s", state, err, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if status, err := p.run("inspect", "--format", "{{.State.Health.Status}}", ctr); err != nil || status != "healthy" {
		t.Fatalf("health status %q %v", status, err)
	}
	if who, err := p.run("top", ctr, "huser", "args"); err != nil || !strings.Contains(who, "65532") || !strings.Contains(who, "/usr/local/bin/tollgate serve") {
		t.Fatalf("podman top: %q %v", who, err)
	}
	if m, err := p.run("inspect", "--format", "{{range .Mounts}}{{.Destination}} {{.Type}};{{end}}", ctr); err != nil || m != "/var/lib/tollgate volume;" {
		t.Fatalf("mounts %q %v", m, err)
	}
	// The database and the key file are in the volume, written as nonroot.
	if _, err := p.run("exec", ctr, "/usr/local/bin/tollgate", "keys", "rotate"); err != nil {
		t.Fatalf("keys rotate in the container (the default database and key file): %v", err)
	}
	if _, err := p.run("stop", "-t", "30", ctr); err != nil {
		t.Fatal(err)
	}
	if code, err := p.run("inspect", "--format", "{{.State.ExitCode}}", ctr); err != nil || code != "0" {
		logs, _ := p.run("logs", ctr)
		t.Fatalf("exit code after stop %q %v\n%s", code, err, logs)
	}
}
