package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// The fixed inputs of the test images.
const (
	testVersion  = "v0.0.0-imagetest"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testEpoch    = "1700000000" // 2023-11-14T22:13:20Z
	hostCACerts  = "/etc/ssl/certs/ca-certificates.crt"
	testPassword = "correct-horse-battery-staple"
)

// testBinary is the tollgate binary that TestMain builds once, for the
// host's architecture so that the tests can run what the image holds.
var testBinary string

func TestMain(m *testing.M) {
	if runtime.GOOS != "linux" {
		fmt.Println("tollgate-image tests run the linux binary they package: skipped on", runtime.GOOS)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "tollgate-image-test-")
	if err != nil {
		log.Fatal(err)
	}
	testBinary = filepath.Join(dir, "tollgate")
	if err := buildBinary(context.Background(), testBinary, runtime.GOARCH, testVersion, os.Stderr); err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildImage runs the command with the test binary and fixed inputs plus
// args, writing the tarball to a temporary file, and returns the digest
// it printed and the tarball's path.
func buildImage(t *testing.T, env map[string]string, args ...string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	base := []string{"--binary", testBinary, "--goarch", runtime.GOARCH, "--version", testVersion,
		"--revision", testRevision, "--tag", "tollgate:test", "--out", out}
	if env == nil {
		env = map[string]string{"SOURCE_DATE_EPOCH": testEpoch}
	}
	return runImage(t, env, append(base, args...)...), out
}

// runImage runs the command with args and returns the digest it printed.
func runImage(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("tollgate-image %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	d := strings.TrimSpace(stdout.String())
	if _, err := v1.NewHash(d); err != nil {
		t.Fatalf("stdout is not a digest: %q (%v)", d, err)
	}
	return d
}

func readTarball(t *testing.T, path string) v1.Image {
	t.Helper()
	tag, err := name.NewTag("tollgate:test")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestConfig reads the written tarball back and checks how the image runs.
func TestConfig(t *testing.T) {
	digest, out := buildImage(t, nil, "--licenses", "Apache-2.0")
	img := readTarball(t, out)
	// A docker tarball keeps the config, not the manifest: its config is
	// the one the printed manifest digest names.
	if got, want := configName(t, img), configName(t, pushed(t, digest, "--licenses", "Apache-2.0")); got != want {
		t.Fatalf("tarball's config %s, the built image's %s", got, want)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Fatalf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if c.User != "65532:65532" {
		t.Fatalf("user %q", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/tollgate"}) || !slices.Equal(c.Cmd, []string{"serve"}) {
		t.Fatalf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if len(c.ExposedPorts) != 1 || !hasKey(c.ExposedPorts, "8080/tcp") {
		t.Fatalf("exposed ports %v", c.ExposedPorts)
	}
	for _, e := range []string{"TOLLGATE_DB=/var/lib/tollgate/tollgate.db", "TOLLGATE_ADDR=0.0.0.0:8080", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"} {
		if !slices.Contains(c.Env, e) {
			t.Errorf("env %q lacks %s", c.Env, e)
		}
	}
	if c.WorkingDir != "/var/lib/tollgate" || len(c.Volumes) != 1 || !hasKey(c.Volumes, "/var/lib/tollgate") {
		t.Fatalf("workdir %q volumes %v", c.WorkingDir, c.Volumes)
	}
	hc := c.Healthcheck
	if hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/usr/local/bin/tollgate", "healthcheck"}) ||
		hc.Interval <= 0 || hc.Timeout <= 5*time.Second || hc.Retries <= 0 || hc.StartPeriod <= 0 {
		t.Fatalf("healthcheck %+v (its timeout must outlast the command's own 5 s)", hc)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":    "tollgate",
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": testRevision,
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
		"org.opencontainers.image.source":   "https://github.com/tollgate/tollgate",
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if c.Labels["org.opencontainers.image.description"] == "" {
		t.Error("no description label")
	}
	if !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("config created %v", cf.Created)
	}
	m, err := pushed(t, digest, "--licenses", "Apache-2.0").Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.DockerManifestSchema2 || len(m.Layers) != 1 || m.Layers[0].MediaType != types.DockerLayer {
		t.Fatalf("manifest %s with layers %v", m.MediaType, m.Layers)
	}
	for k, v := range c.Labels {
		if m.Annotations[k] != v {
			t.Errorf("manifest annotation %s = %q, label %q", k, m.Annotations[k], v)
		}
	}

	// Without --licenses there is no licenses label (the repository has
	// no license file to name).
	_, out = buildImage(t, nil)
	cf, err = readTarball(t, out).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := cf.Config.Labels["org.opencontainers.image.licenses"]; ok {
		t.Fatalf("licenses label %q without --licenses", l)
	}
}

// TestOCILayout checks --oci-dir, and --format oci's media types.
func TestOCILayout(t *testing.T) {
	for _, format := range []Format{FormatDocker, FormatOCI} {
		t.Run(string(format), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			digest, _ := buildImage(t, nil, "--oci-dir", dir, "--format", string(format))
			p, err := layout.FromPath(dir)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := p.ImageIndex()
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != digest ||
				im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "tollgate:test" {
				t.Fatalf("index %+v, digest %s", im.Manifests, digest)
			}
			img, err := idx.Image(im.Manifests[0].Digest)
			if err != nil {
				t.Fatal(err)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			want := map[Format][2]types.MediaType{
				FormatDocker: {types.DockerManifestSchema2, types.DockerConfigJSON},
				FormatOCI:    {types.OCIManifestSchema1, types.OCIConfigJSON},
			}[format]
			if m.MediaType != want[0] || m.Config.MediaType != want[1] {
				t.Fatalf("media types %s, %s; want %s", m.MediaType, m.Config.MediaType, want)
			}
			if ls, err := img.Layers(); err != nil || len(ls) != 1 {
				t.Fatalf("%d layers (%v)", len(ls), err)
			}
		})
	}
	// A directory that holds something is refused, not merged into.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	err := run(t.Context(), []string{"--binary", testBinary, "--goarch", runtime.GOARCH, "--version", "v1", "--revision", "r", "--oci-dir", dir},
		func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": testEpoch}[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("--oci-dir into a full directory: %v", err)
	}
}

// entry is one file of the layer as the test reads it back.
type entry struct {
	typ      byte
	mode     int64
	uid, gid int
}

// layerFiles reads the image's one layer: its headers in order, and the
// bodies of its regular files.
func layerFiles(t *testing.T, img v1.Image) ([]*tar.Header, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v)", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var hs []*tar.Header
	bodies := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		if h.Typeflag == tar.TypeReg {
			if bodies[h.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return hs, bodies
}

// TestLayer checks every file of the image: modes, owners, times, the
// order of entries, and the contents of the binary and the CA bundle.
func TestLayer(t *testing.T) {
	_, out := buildImage(t, nil)
	hs, bodies := layerFiles(t, readTarball(t, out))
	want := map[string]entry{
		"etc/":                              {tar.TypeDir, 0o755, 0, 0},
		"etc/group":                         {tar.TypeReg, 0o644, 0, 0},
		"etc/nsswitch.conf":                 {tar.TypeReg, 0o644, 0, 0},
		"etc/passwd":                        {tar.TypeReg, 0o644, 0, 0},
		"etc/ssl/":                          {tar.TypeDir, 0o755, 0, 0},
		"etc/ssl/certs/":                    {tar.TypeDir, 0o755, 0, 0},
		"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0o644, 0, 0},
		"root/":                             {tar.TypeDir, 0o700, 0, 0},
		"tmp/":                              {tar.TypeDir, 0o1777, 0, 0},
		"usr/":                              {tar.TypeDir, 0o755, 0, 0},
		"usr/local/":                        {tar.TypeDir, 0o755, 0, 0},
		"usr/local/bin/":                    {tar.TypeDir, 0o755, 0, 0},
		"usr/local/bin/tollgate":            {tar.TypeReg, 0o755, 0, 0},
		"var/":                              {tar.TypeDir, 0o755, 0, 0},
		"var/lib/":                          {tar.TypeDir, 0o755, 0, 0},
		"var/lib/tollgate/":                 {tar.TypeDir, 0o700, 65532, 65532},
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
		w, ok := want[h.Name]
		if !ok {
			t.Errorf("unexpected entry %s", h.Name)
			continue
		}
		delete(want, h.Name)
		if got := (entry{h.Typeflag, h.Mode, h.Uid, h.Gid}); got != w {
			t.Errorf("%s: type %c mode %o owner %d:%d, want type %c mode %o owner %d:%d", h.Name, got.typ, got.mode, got.uid, got.gid, w.typ, w.mode, w.uid, w.gid)
		}
		if h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(time.Unix(1700000000, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: owner names %q:%q, times %v %v %v", h.Name, h.Uname, h.Gname, h.ModTime, h.AccessTime, h.ChangeTime)
		}
	}
	for n := range want {
		t.Errorf("missing entry %s", n)
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %v", names)
	}
	bin, err := os.ReadFile(testBinary)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bodies["usr/local/bin/tollgate"], bin) {
		t.Error("the image's binary is not the one given")
	}
	ca, err := os.ReadFile(hostCACerts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bodies["etc/ssl/certs/ca-certificates.crt"], ca) {
		t.Error("the image's CA bundle is not the host's")
	}
	if p := string(bodies["etc/passwd"]); !strings.Contains(p, "\nnonroot:x:65532:65532:nonroot:/var/lib/tollgate:/sbin/nologin\n") {
		t.Errorf("/etc/passwd:\n%s", p)
	}
	if g := string(bodies["etc/group"]); !strings.Contains(g, "\nnonroot:x:65532:\n") {
		t.Errorf("/etc/group:\n%s", g)
	}
}

// unpack writes the image's files under a new directory (modes kept,
// owners not: the test need not be root) and returns it.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	hs, bodies := layerFiles(t, img)
	for _, h := range hs {
		p := filepath.Join(root, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.WriteFile(p, bodies[h.Name], os.FileMode(h.Mode)&os.ModePerm); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestRunUnpacked runs what the image holds, with the image's own
// environment pointed at temporary paths: version, serve, and the
// healthcheck the image's config names, which must fail before the server
// is up and after it stops and pass while it runs, also when TOLLGATE_ADDR
// is the image's wildcard form 0.0.0.0:PORT.
func TestRunUnpacked(t *testing.T) {
	_, out := buildImage(t, nil)
	img := readTarball(t, out)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := unpack(t, img)
	bin := filepath.Join(root, cf.Config.Entrypoint[0])

	v, err := exec.Command(bin, "version").Output()
	if err != nil || strings.TrimSpace(string(v)) != "tollgate "+testVersion {
		t.Fatalf("version: %q %v", v, err)
	}

	port := freePort(t)
	data := filepath.Join(root, "var/lib/tollgate")
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["SSL_CERT_FILE"] = filepath.Join(root, env["SSL_CERT_FILE"])
	env["TOLLGATE_DB"] = filepath.Join(root, env["TOLLGATE_DB"])
	env["TOLLGATE_ADDR"] = "127.0.0.1:" + port
	env["TOLLGATE_BOOTSTRAP_PASSWORD"] = testPassword
	env["TOLLGATE_SHUTDOWN_DRAIN"] = "0"
	environ := func(over ...string) []string {
		var e []string
		for k, v := range env {
			e = append(e, k+"="+v)
		}
		return append(e, over...)
	}
	hc := cf.Config.Healthcheck.Test[1:] // after "CMD"
	healthcheck := func(over ...string) error {
		cmd := exec.Command(filepath.Join(root, hc[0]), hc[1:]...)
		cmd.Env, cmd.Dir = environ(over...), data
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := healthcheck(); err == nil {
		t.Fatal("healthcheck passed with no server")
	}

	serve := exec.Command(bin, cf.Config.Cmd...)
	serve.Env, serve.Dir = environ(), data
	stderr := &stacktest.SyncBuffer{}
	serve.Stdout, serve.Stderr = io.Discard, stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = serve.Wait(); close(exited) }()
	t.Cleanup(func() {
		serve.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(time.Minute)
	for healthcheck() != nil {
		select {
		case <-exited:
			t.Fatalf("serve exited: %v\n%s", waitErr, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed: %v\n%s", healthcheck(), stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := healthcheck("TOLLGATE_ADDR=0.0.0.0:" + port); err != nil {
		t.Fatalf("healthcheck with TOLLGATE_ADDR=0.0.0.0:%s: %v", port, err)
	}
	if _, err := os.Stat(env["TOLLGATE_DB"]); err != nil {
		t.Fatalf("serve made no database at TOLLGATE_DB: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "tollgate.key")); err != nil {
		t.Fatalf("the key file is not in the data directory: %v", err)
	}

	serve.Process.Signal(os.Interrupt)
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("serve exited with %v\n%s", waitErr, stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGINT")
	}
	if err := healthcheck(); err == nil {
		t.Fatal("healthcheck passed after the server stopped")
	}
}

// freePort returns a loopback port that nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestReproducible builds the binary and the image twice from the same
// commit and expects one digest, the same as from the prebuilt binary;
// another SOURCE_DATE_EPOCH gives another digest.
func TestReproducible(t *testing.T) {
	fromBinary, _ := buildImage(t, nil)
	if again, _ := buildImage(t, nil); again != fromBinary {
		t.Fatalf("two builds from one binary: %s and %s", fromBinary, again)
	}
	env := map[string]string{"SOURCE_DATE_EPOCH": testEpoch}
	args := []string{"--goarch", runtime.GOARCH, "--version", testVersion, "--revision", testRevision, "--tag", "tollgate:test"}
	first := runImage(t, env, append(args, "--out", filepath.Join(t.TempDir(), "a.tar"))...)
	second := runImage(t, env, append(args, "--out", filepath.Join(t.TempDir(), "b.tar"))...)
	if first != second || first != fromBinary {
		t.Fatalf("digests: built %s then %s; from the prebuilt binary %s", first, second, fromBinary)
	}
	if other, _ := buildImage(t, map[string]string{"SOURCE_DATE_EPOCH": "1700000001"}); other == fromBinary {
		t.Fatal("another SOURCE_DATE_EPOCH gave the same digest")
	}
}

// TestGitDefaults: without --revision and SOURCE_DATE_EPOCH the image is
// labelled with the HEAD commit and stamped with its time.
func TestGitDefaults(t *testing.T) {
	head, err := git(t.Context(), "rev-parse", "HEAD")
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	ct, err := git(t.Context(), "log", "-1", "--format=%ct")
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := strconv.ParseInt(ct, 10, 64)
	out := filepath.Join(t.TempDir(), "image.tar")
	runImage(t, map[string]string{}, "--binary", testBinary, "--goarch", runtime.GOARCH, "--tag", "tollgate:test", "--out", out)
	cf, err := readTarball(t, out).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	l := cf.Config.Labels
	if l["org.opencontainers.image.revision"] != head || l["org.opencontainers.image.created"] != time.Unix(sec, 0).UTC().Format(time.RFC3339) ||
		!strings.HasPrefix(l["org.opencontainers.image.version"], head[:7]) && !strings.Contains(l["org.opencontainers.image.version"], "-g"+head[:7]) {
		t.Fatalf("labels %v for HEAD %s at %s", l, head, ct)
	}
}

// TestPush pushes to a registry on loopback (go-containerregistry's own
// registry server) and pulls the same digest back.
func TestPush(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials: anonymous
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	ref := host + "/tollgate/server:test"
	digest, _ := buildImage(t, nil, "--push", ref)
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := img.Digest(); err != nil || d.String() != digest {
		t.Fatalf("pulled %v (%v), pushed %s", d, err, digest)
	}
	if cf, err := img.ConfigFile(); err != nil || cf.Config.User != "65532:65532" {
		t.Fatalf("pulled config %+v (%v)", cf, err)
	}
}

// TestUsage: bad input is refused before anything is built.
func TestUsage(t *testing.T) {
	env := func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": testEpoch}[k] }
	common := []string{"--binary", testBinary, "--goarch", runtime.GOARCH, "--version", "v1", "--revision", "r"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{common, "nothing to write"},
		{append(common[:6:6], "--version", "v 1", "--out", "x.tar"), "no spaces"},
		{append(slices.Clone(common), "--out", filepath.Join(t.TempDir(), "x.tar"), "--ca-certs", filepath.Join(t.TempDir(), "none.crt")), "CA certificates"},
		{append(slices.Clone(common), "--out", filepath.Join(t.TempDir(), "x.tar"), "--binary", hostCACerts), "not a linux ELF"},
		{append(slices.Clone(common), "--out", filepath.Join(t.TempDir(), "x.tar"), "--goarch", otherArch()), "not " + otherArch()},
		{append(slices.Clone(common), "--out", filepath.Join(t.TempDir(), "x.tar"), "--format", "zip"), "unknown format"},
		{append(slices.Clone(common), "--out", filepath.Join(t.TempDir(), "x.tar"), "--tag", "Bad Tag"), "--tag"},
	} {
		err := run(t.Context(), tc.args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	if err := run(t.Context(), append(common, "--out", "x.tar"), func(k string) string {
		return map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}[k]
	}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("a bad SOURCE_DATE_EPOCH: %v", err)
	}
}

func otherArch() string {
	if runtime.GOARCH == "arm64" {
		return "amd64"
	}
	return "arm64"
}

// pushed builds the image with args into an OCI layout, which keeps the
// manifest, checks that it has digest, and returns it.
func pushed(t *testing.T, digest string, args ...string) v1.Image {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	if d, _ := buildImage(t, nil, append(args, "--oci-dir", dir)...); d != digest {
		t.Fatalf("digest %s, earlier %s", d, digest)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func configName(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func hasKey(m map[string]struct{}, k string) bool {
	_, ok := m[k]
	return ok
}
