// Command tollgate-image builds Tollgate's container image without a
// container daemon, as ko does: it cross-compiles the static binary
// (CGO_ENABLED=0, GOOS=linux) and lays it, with /etc/passwd, /etc/group,
// the build host's CA certificates, /tmp and the data directory, into a
// single layer on an empty base with go-containerregistry. The server
// runs as 65532:65532 (nonroot).
//
// The image is reproducible: every file has the time of SOURCE_DATE_EPOCH
// (else the commit's), entries are sorted and owned by numeric IDs, so the
// same commit builds the same digest.
//
//	go run ./cmd/tollgate-image --out tollgate.tar    # then: docker load -i tollgate.tar
//	go run ./cmd/tollgate-image --oci-dir oci/        # an OCI image layout
//	go run ./cmd/tollgate-image --push ghcr.io/acme/tollgate:v1
//
// It prints the image's digest on stdout. See docs/container.md.
package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// mainPackage is the package whose binary the image runs.
const mainPackage = "github.com/tollgate/tollgate/cmd/tollgate"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tollgate-image:", err)
		}
		var u usageError
		if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad flag or flag combination (exit 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// run is the whole command, with its environment passed in for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollgate-image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write a docker-loadable image tarball (docker load / podman load) to FILE")
	ociDir := fs.String("oci-dir", "", "write an OCI image layout to DIR (new or empty)")
	push := fs.String("push", "", "push the image to REF with the credentials of ~/.docker/config.json (authn.DefaultKeychain)")
	tag := fs.String("tag", "", "the image's name in --out and --oci-dir (default tollgate:<version>)")
	binary := fs.String("binary", "", "use this prebuilt static linux binary instead of building "+mainPackage)
	goarch := fs.String("goarch", "amd64", "GOARCH of the binary and the image")
	ver := fs.String("version", "", "the version built into the binary and labelled (default: git describe --tags --always --dirty)")
	revision := fs.String("revision", "", "the git commit labelled (default: git rev-parse HEAD)")
	source := fs.String("source", "https://github.com/tollgate/tollgate", "org.opencontainers.image.source")
	licenses := fs.String("licenses", "", "org.opencontainers.image.licenses, an SPDX expression (none by default: the repository has no license file)")
	caCerts := fs.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the build host's CA bundle, installed in the image")
	format := fs.String("format", string(FormatDocker), "manifest media types: docker (HEALTHCHECK kept by Docker and Podman) or oci")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tollgate-image [--out FILE] [--oci-dir DIR] [--push REF] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *out == "" && *ociDir == "" && *push == "" {
		return usageError("nothing to write: give --out, --oci-dir or --push")
	}
	if *ver == "" {
		v, err := git(ctx, "describe", "--tags", "--always", "--dirty")
		if err != nil {
			return fmt.Errorf("--version not given and %w", err)
		}
		*ver = v
	}
	if strings.ContainsAny(*ver, " \t\n'\"") {
		return usageError(fmt.Sprintf("--version %q: no spaces or quotes", *ver))
	}
	if *revision == "" {
		r, err := git(ctx, "rev-parse", "HEAD")
		if err != nil {
			return fmt.Errorf("--revision not given and %w", err)
		}
		*revision = r
	}
	created, err := sourceDate(ctx, getenv)
	if err != nil {
		return err
	}
	ref, err := name.NewTag(cmpOr(*tag, "tollgate:"+sanitizeTag(*ver)))
	if err != nil {
		return usageError(fmt.Sprintf("--tag: %v", err))
	}
	var pushRef name.Reference
	if *push != "" {
		if pushRef, err = name.ParseReference(*push); err != nil {
			return usageError(fmt.Sprintf("--push: %v", err))
		}
	}
	certs, err := readCACerts(*caCerts)
	if err != nil {
		return err
	}

	bin := *binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "tollgate-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "tollgate")
		fmt.Fprintf(stderr, "building %s %s for linux/%s\n", mainPackage, *ver, *goarch)
		if err := buildBinary(ctx, bin, *goarch, *ver, stderr); err != nil {
			return err
		}
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	if err := checkStatic(body, *goarch); err != nil {
		return fmt.Errorf("%s: %w", bin, err)
	}

	img, err := Build(Spec{Binary: body, CACerts: certs, Arch: *goarch, Created: created,
		Version: *ver, Revision: *revision, Source: *source, Licenses: *licenses, Format: Format(*format)})
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	size, err := imageSize(img)
	if err != nil {
		return err
	}
	configName, err := img.ConfigName()
	if err != nil {
		return err
	}
	if *out != "" {
		if err := writeTarball(*out, ref, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s (%s; docker load -i %s)\n", *out, ref, *out)
	}
	if *ociDir != "" {
		if err := writeLayout(*ociDir, ref, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the OCI layout %s\n", *ociDir)
	}
	if pushRef != nil {
		if err := remote.Write(pushRef, img, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("push %s: %w", pushRef, err)
		}
		fmt.Fprintf(stderr, "pushed %s@%s\n", pushRef.Context(), digest)
	}
	fmt.Fprintf(stderr, "image %s, linux/%s, %d bytes compressed, created %s\n", ref, *goarch, size, created.UTC().Format(time.RFC3339))
	fmt.Fprintf(stderr, "config (the image ID docker load and podman load show): %s\nmanifest digest (registry, OCI layout):\n", configName)
	fmt.Fprintln(stdout, digest)
	return nil
}

// buildBinary cross-compiles the static tollgate binary to out, with the
// version stamped into main.version.
func buildBinary(ctx context.Context, out, goarch, ver string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+ver, "-o", out, mainPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", mainPackage, err)
	}
	return nil
}

// checkStatic makes sure body is a linux ELF executable for goarch with no
// dynamic loader, since the image has no libc.
func checkStatic(body []byte, goarch string) error {
	f, err := elf.NewFile(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not a linux ELF binary: %w", err)
	}
	want, ok := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386,
		"arm": elf.EM_ARM, "riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}[goarch]
	if !ok {
		return fmt.Errorf("unsupported --goarch %q", goarch)
	}
	if f.Machine != want {
		return fmt.Errorf("built for %s, not %s (--goarch)", f.Machine, goarch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked (build with CGO_ENABLED=0)")
		}
	}
	return nil
}

// sourceDate is SOURCE_DATE_EPOCH when set, else the time of the HEAD
// commit: the one time every file and the config carry.
func sourceDate(ctx context.Context, getenv func(string) string) (time.Time, error) {
	s := getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		var err error
		if s, err = git(ctx, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH not set and %w", err)
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, usageError(fmt.Sprintf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s))
	}
	return time.Unix(sec, 0).UTC(), nil
}

// git runs git in the current directory and returns its trimmed output.
func git(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// sanitizeTag turns a version into a valid tag (letters, digits, . _ -).
func sanitizeTag(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// imageSize is what a registry stores: manifest, config and layers.
func imageSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

// writeTarball writes the docker-loadable tarball (manifest.json, as
// docker save does, which docker load and podman load read) through a
// temporary file, so that a failed build leaves no half file.
func writeTarball(path string, ref name.Tag, img v1.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tollgate-image-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tarball.Write(ref, img, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeLayout writes an OCI image layout holding the image, named ref in
// its index (org.opencontainers.image.ref.name). dir must be new or empty.
func writeLayout(dir string, ref name.Tag, img v1.Image) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("--oci-dir %s is not empty", dir)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.String(),
	}))
}
