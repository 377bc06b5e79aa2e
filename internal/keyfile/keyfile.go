// Package keyfile reads (and on first use makes) the key file that keys
// Tollgate's secret hashes and seals its signing keys: what serve, the
// admin commands and the benchmark's seed share.
package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tollgate/tollgate/credential"
)

// Load reads the key file at path, creating it with 32 random bytes (hex,
// mode 0600) when create is set and it does not exist, and derives the
// keyring. It warns on stderr when the file is readable by others.
func Load(path string, create bool, stderr io.Writer) (*credential.Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, 32)
		rand.Read(key)
		b = []byte(hex.EncodeToString(key) + "\n")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		fmt.Fprintf(stderr, "Created the key file %s: back it up; without it secrets and signing keys cannot be used.\n", path)
	} else if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: key file %s is readable by other users (mode %v); chmod 600 it\n", path, fi.Mode().Perm())
	}
	master := bytes.TrimSpace(b)
	if dec, err := hex.DecodeString(string(master)); err == nil {
		master = dec
	}
	kr, err := credential.NewKeyring(master)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w (make one with: head -c 32 /dev/urandom | xxd -p -c 64 > %s)", path, err, path)
	}
	return kr, nil
}
