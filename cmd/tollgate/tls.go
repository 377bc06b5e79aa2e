package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate pair read from two files, and reads
// them again when either changes (O1): a renewed certificate (certbot,
// cert-manager) is picked up without a restart. A pair that fails to load
// after a change (a half-written file, a key that does not match) keeps
// the previous pair in service, is logged, and is tried again.
type certReloader struct {
	certPath, keyPath string
	log               *slog.Logger

	mu    sync.RWMutex
	cert  *tls.Certificate
	stamp [2]fileStamp // of the files the current pair was read from
}

// fileStamp is what tells that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// loadPair reads a certificate and its private key, with an error that
// says which file is wrong and how.
func loadPair(certPath, keyPath string) (*tls.Certificate, error) {
	for flag, p := range map[string]string{"--tls-cert": certPath, "--tls-key": keyPath} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %s does not exist", flag, p)
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s are not a certificate and its private key: %w", certPath, keyPath, err)
	}
	return &c, nil
}

// newCertReloader loads the pair once; an error is the reason the server
// cannot start.
func newCertReloader(certPath, keyPath string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certPath: certPath, keyPath: keyPath, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair if either file changed since it was last read.
func (r *certReloader) reload() error {
	var stamp [2]fileStamp
	var err error
	for i, p := range []string{r.certPath, r.keyPath} {
		if stamp[i], err = stampOf(p); err != nil {
			_, err = loadPair(r.certPath, r.keyPath) // says which file, in the flag's words
			return err
		}
	}
	r.mu.RLock()
	same := r.cert != nil && stamp == r.stamp
	r.mu.RUnlock()
	if same {
		return nil
	}
	c, err := loadPair(r.certPath, r.keyPath)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cert, r.stamp = c, stamp
	r.mu.Unlock()
	return nil
}

// watch reloads the pair every interval until ctx ends.
func (r *certReloader) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.RLock()
		before := r.cert
		r.mu.RUnlock()
		if err := r.reload(); err != nil {
			r.log.Warn("the TLS certificate files changed but do not load; still serving the previous pair", "err", err)
			continue
		}
		r.mu.RLock()
		changed := r.cert != before
		r.mu.RUnlock()
		if changed {
			r.log.Info("reloaded the TLS certificate", "cert", r.certPath)
		}
	}
}

// getCertificate is tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// tlsConfig is Go's defaults from TLS 1.2 on, with the reloaded pair.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.getCertificate}
}
