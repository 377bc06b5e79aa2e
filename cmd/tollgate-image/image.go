package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed layout and identity.
const (
	binaryPath = "/usr/local/bin/tollgate"
	dataDir    = "/var/lib/tollgate"
	caFile     = "/etc/ssl/certs/ca-certificates.crt"
	port       = "8080/tcp"
	// nonroot is the user and group the server runs as (distroless's
	// "nonroot"); it owns only the data directory.
	nonroot = 65532
)

// Format names the manifest and config media types of the image.
type Format string

const (
	// FormatDocker is Docker's image manifest v2 schema 2, the default:
	// Docker and Podman both honour the HEALTHCHECK in its config.
	FormatDocker Format = "docker"
	// FormatOCI is the OCI image manifest. Podman drops a HEALTHCHECK from
	// an OCI image (the OCI config has no such field); Docker keeps it.
	FormatOCI Format = "oci"
)

// Spec is everything that goes into the image. Build makes the same image,
// byte for byte, from the same Spec and the same files.
type Spec struct {
	Binary   []byte    // the static tollgate binary for GOOS=linux
	CACerts  []byte    // a PEM bundle, installed at caFile
	Arch     string    // GOARCH of the binary
	Created  time.Time // the time of every file and of the config
	Version  string    // org.opencontainers.image.version
	Revision string    // org.opencontainers.image.revision (git commit)
	Source   string    // org.opencontainers.image.source; omitted when empty
	Licenses string    // org.opencontainers.image.licenses (SPDX); omitted when empty
	Format   Format
}

// Healthcheck is the probe in the image's config: tollgate healthcheck
// reads TOLLGATE_ADDR and asks loopback for /readyz when it is 0.0.0.0.
// Its own timeout (5 s) is shorter than the container's.
var Healthcheck = v1.HealthConfig{
	Test:        []string{"CMD", binaryPath, "healthcheck"},
	Interval:    15 * time.Second,
	Timeout:     6 * time.Second,
	StartPeriod: 30 * time.Second,
	Retries:     3,
}

// Labels returns the OCI annotation keys the image carries, both as config
// labels (which docker inspect and podman inspect show) and as manifest
// annotations.
func (s Spec) Labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "tollgate",
		"org.opencontainers.image.description": "Tollgate: OAuth 2.0 service accounts, API tokens and /check for gateways, in one binary",
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.revision":    s.Revision,
		"org.opencontainers.image.created":     s.Created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.source":      s.Source,
		"org.opencontainers.image.licenses":    s.Licenses,
	}
	for k, v := range l {
		if v == "" {
			delete(l, k)
		}
	}
	return l
}

// Build assembles the image: one layer on an empty base, with the files
// that rootFiles lists, and the config that runs tollgate serve as nonroot.
func Build(s Spec) (v1.Image, error) {
	if len(s.Binary) == 0 {
		return nil, fmt.Errorf("no binary")
	}
	if len(s.CACerts) == 0 {
		return nil, fmt.Errorf("no CA certificates")
	}
	if s.Arch == "" {
		return nil, fmt.Errorf("no architecture")
	}
	layerTar, err := layerTar(rootFiles(s), s.Created)
	if err != nil {
		return nil, err
	}
	layerType := types.DockerLayer
	base := empty.Image
	switch s.Format {
	case FormatDocker, "":
	case FormatOCI:
		layerType = types.OCILayer
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	default:
		return nil, fmt.Errorf("unknown format %q (docker or oci)", s.Format)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(layerType), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: s.Created.UTC()}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: layerType, History: v1.History{
		Created:   created,
		CreatedBy: "tollgate-image",
		Comment:   "tollgate " + s.Version + " (" + s.Revision + ")",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = s.Arch, "linux", created
	cf.Author = ""
	hc := Healthcheck
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{binaryPath},
		Cmd:        []string{"serve"},
		WorkingDir: dataDir,
		Env: []string{
			"PATH=/usr/local/bin:/usr/bin:/bin",
			"SSL_CERT_FILE=" + caFile,
			"TOLLGATE_DB=" + dataDir + "/tollgate.db",
			"TOLLGATE_ADDR=0.0.0.0:8080",
		},
		ExposedPorts: map[string]struct{}{port: {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		Labels:       s.Labels(),
		Healthcheck:  &hc,
		StopSignal:   "SIGTERM",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, s.Labels()).(v1.Image), nil
}

// file is one entry of the layer.
type file struct {
	name     string // absolute path
	mode     int64  // permission bits, with 01000 for sticky
	uid, gid int
	dir      bool
	body     []byte
}

// rootFiles lists the image's whole file system. Every parent directory
// is listed: the layer has no implicit entries.
func rootFiles(s Spec) []file {
	dir := func(name string, mode int64) file { return file{name: name, mode: mode, dir: true} }
	reg := func(name string, mode int64, body string) file {
		return file{name: name, mode: mode, body: []byte(body)}
	}
	data := dir(dataDir, 0o700)
	data.uid, data.gid = nonroot, nonroot
	fs := []file{
		dir("/etc", 0o755),
		reg("/etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\n"+
			fmt.Sprintf("nonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", nonroot, nonroot, dataDir)),
		reg("/etc/group", 0o644, "root:x:0:\n"+fmt.Sprintf("nonroot:x:%d:\n", nonroot)),
		// Go's resolver reads /etc/hosts before DNS only when told.
		reg("/etc/nsswitch.conf", 0o644, "hosts: files dns\n"),
		dir("/etc/ssl", 0o755),
		dir("/etc/ssl/certs", 0o755),
		{name: caFile, mode: 0o644, body: s.CACerts},
		dir("/root", 0o700),
		dir("/tmp", 0o1777),
		dir("/usr", 0o755),
		dir("/usr/local", 0o755),
		dir("/usr/local/bin", 0o755),
		// Root owns the binary: the server cannot rewrite its own code.
		{name: binaryPath, mode: 0o755, body: s.Binary},
		dir("/var", 0o755),
		dir("/var/lib", 0o755),
		data,
	}
	return fs
}

// layerTar writes files as an uncompressed tar, sorted by name, with
// mtime for every entry, numeric owners only and no host user or group
// names, so that the same files always give the same bytes.
func layerTar(files []file, mtime time.Time) ([]byte, error) {
	files = append([]file(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		name := strings.TrimPrefix(path.Clean(f.name), "/")
		h := &tar.Header{
			Name:    name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readCACerts reads the build host's CA bundle, and fails clearly when
// there is none: an image without it cannot reach federated issuers.
func readCACerts(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (install ca-certificates, or pass --ca-certs FILE)", err)
	}
	if !bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA certificates: %s holds no PEM certificate", p)
	}
	return b, nil
}
