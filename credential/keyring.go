package credential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// MinMasterKeyLen is the least number of random bytes a key file holds.
const MinMasterKeyLen = 32

// Keyring holds the keys Tollgate derives from its master key (the key
// file), each for one purpose (HKDF-SHA256 with a purpose label):
// hashing client secrets and tokens (HMAC-SHA256, C2) and sealing data at
// rest (AES-256-GCM: signing keys' private halves, issued access tokens).
type Keyring struct {
	hashKey []byte
	aead    cipher.AEAD
	// macs are HMAC states keyed with hashKey (*pooledMAC), reset and
	// reused: making one hashes the key's pads, a quarter of Hash's cost.
	macs sync.Pool
}

// NewKeyring derives the keyring from master, which must hold at least
// MinMasterKeyLen bytes.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) < MinMasterKeyLen {
		return nil, fmt.Errorf("credential: the master key must be at least %d bytes, got %d", MinMasterKeyLen, len(master))
	}
	hashKey, err := hkdf.Key(sha256.New, master, nil, "tollgate secret hash v1", 32)
	if err != nil {
		return nil, err
	}
	sealKey, err := hkdf.Key(sha256.New, master, nil, "tollgate seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Keyring{hashKey: hashKey, aead: aead}
	k.macs.New = func() any { return &pooledMAC{mac: hmac.New(sha256.New, k.hashKey)} }
	return k, nil
}

// Hash returns the keyed hash (HMAC-SHA256) of a high-entropy credential:
// fast, as 256 random bits need no key stretching, and useless to whoever
// steals the database without the key file.
func (k *Keyring) Hash(credential string) []byte {
	m := k.macs.Get().(*pooledMAC)
	m.mac.Reset()
	// The string goes in through the state's own buffer: an HMAC has no
	// WriteString, and io.WriteString would copy it to a new []byte.
	m.buf = append(m.buf[:0], credential...)
	m.mac.Write(m.buf)
	sum := m.mac.Sum(make([]byte, 0, sha256.Size))
	if cap(m.buf) > 4<<10 { // a huge string's copy is not kept
		m.buf = nil
	}
	k.macs.Put(m)
	return sum
}

// pooledMAC is a keyed HMAC state with a buffer to write strings through.
type pooledMAC struct {
	mac hash.Hash
	buf []byte
}

// Seal encrypts plaintext bound to context (authenticated, not secret: for
// example the ID of the row that holds the result), as nonce || ciphertext.
func (k *Keyring) Seal(plaintext []byte, context string) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plaintext, []byte(context))
}

// ErrUnseal is returned for sealed data that was altered, moved to another
// context, or sealed under another master key.
var ErrUnseal = errors.New("credential: sealed data does not open with this key file")

// Open decrypts what Seal returned for the same context.
func (k *Keyring) Open(sealed []byte, context string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, ErrUnseal
	}
	out, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrUnseal
	}
	return out, nil
}
