// Package keys manages the keys that sign access tokens (RFC 9068 JWTs with
// EdDSA/Ed25519, RFC 8037) and publishes them as a JWK Set (RFC 7517).
//
// Keys live in the database so that every replica signs with the same key;
// the private half is sealed with the key file. A key signs until it is
// rotated out (on a schedule, or by "tollgate keys rotate"), then stays in
// the JWK Set until the last token it can have signed has expired.
package keys

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// Algorithm is the JWS algorithm of access tokens.
const Algorithm = "EdDSA"

// publishFor is how long a retired key stays published: the longest token
// lifetime, since a token signed just before retirement lives that long.
const publishFor = tollgate.MaxTokenTTLSeconds * time.Second

// refreshEvery bounds how stale this process's view of the keys may get;
// an unknown kid triggers a refresh sooner (at most once a second).
const refreshEvery = time.Minute

// Manager signs with the current key and knows the published ones.
type Manager struct {
	store tollgate.Store
	keys  *credential.Keyring
	clock tollgate.Clock

	mu          sync.RWMutex
	current     *signer
	public      map[string]ed25519.PublicKey // kid → key, every published key
	jwks        []byte
	loadedAt    time.Time
	lastRefresh time.Time
}

type signer struct {
	kid       string
	createdAt time.Time
	private   ed25519.PrivateKey
	headers   jws.Headers
}

// New returns a Manager. Call Load (or any method, which loads lazily).
func New(store tollgate.Store, keys *credential.Keyring, clock tollgate.Clock) *Manager {
	return &Manager{store: store, keys: keys, clock: clock}
}

// Load reads the keys from the database, creating the first key if there is
// none (a replica that loses that race reads the winner's).
func (m *Manager) Load(ctx context.Context) error {
	var rows []tollgate.SigningKey
	err := m.store.InTx(ctx, func(q tollgate.Queries) error {
		var err error
		if rows, err = q.ListSigningKeys(ctx); err != nil {
			return err
		}
		if activeKey(rows) != nil {
			return nil
		}
		k, err := m.newKey()
		if err != nil {
			return err
		}
		if err := q.CreateSigningKey(ctx, k); err != nil {
			return err
		}
		rows = append([]tollgate.SigningKey{*k}, rows...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	return m.install(rows)
}

// activeKey is the newest key not retired.
func activeKey(rows []tollgate.SigningKey) *tollgate.SigningKey {
	for i := range rows {
		if rows[i].RetiredAt == nil {
			return &rows[i]
		}
	}
	return nil
}

func (m *Manager) newKey() (*tollgate.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	now := tollgate.Timestamp(m.clock.Now())
	id := tollgate.NewID(tollgate.PrefixSigningKey, now)
	return &tollgate.SigningKey{ID: id, Algorithm: Algorithm, PublicKey: pub, PrivateSealed: m.keys.Seal(priv.Seed(), id), CreatedAt: now}, nil
}

// install makes rows this process's view: the active key signs, every key
// retired less than publishFor ago is published.
func (m *Manager) install(rows []tollgate.SigningKey) error {
	now := m.clock.Now()
	active := activeKey(rows)
	if active == nil {
		return fmt.Errorf("keys: no active signing key")
	}
	seed, err := m.keys.Open(active.PrivateSealed, active.ID)
	if err != nil {
		return fmt.Errorf("keys: signing key %s: %w", active.ID, err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "at+jwt"); err != nil {
		return err
	}
	if err := hdr.Set(jws.KeyIDKey, active.ID); err != nil {
		return err
	}
	public := map[string]ed25519.PublicKey{}
	set := jwk.NewSet()
	for _, r := range rows {
		if r.RetiredAt != nil && now.Sub(*r.RetiredAt) > publishFor {
			continue
		}
		pub := ed25519.PublicKey(r.PublicKey)
		public[r.ID] = pub
		k, err := jwk.Import(pub)
		if err != nil {
			return fmt.Errorf("keys: %s: %w", r.ID, err)
		}
		for name, v := range map[string]any{jwk.KeyIDKey: r.ID, jwk.AlgorithmKey: jwa.EdDSA(), jwk.KeyUsageKey: "sig"} {
			if err := k.Set(name, v); err != nil {
				return err
			}
		}
		if err := set.AddKey(k); err != nil {
			return err
		}
	}
	doc, err := json.Marshal(set)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.current = &signer{kid: active.ID, createdAt: active.CreatedAt, private: ed25519.NewKeyFromSeed(seed), headers: hdr}
	m.public, m.jwks, m.loadedAt = public, doc, now
	m.mu.Unlock()
	return nil
}

// ensure loads the keys when they were never loaded or are stale.
func (m *Manager) ensure(ctx context.Context) error {
	m.mu.RLock()
	fresh := m.current != nil && m.clock.Now().Sub(m.loadedAt) < refreshEvery
	m.mu.RUnlock()
	if fresh {
		return nil
	}
	return m.Load(ctx)
}

// Signer returns the current signing key, reading the keys first when they
// are stale. Call it before opening a transaction: reading may need one.
func (m *Manager) Signer(ctx context.Context) (*Signer, error) {
	if err := m.ensure(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return &Signer{s: m.current}, nil
}

// CurrentCreatedAt is when the signing key of this process's view was
// made, without reading the database (false before the first Load).
func (m *Manager) CurrentCreatedAt() (time.Time, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.current == nil {
		return time.Time{}, false
	}
	return m.current.createdAt, true
}

// Signer signs with one key, without touching the database.
type Signer struct{ s *signer }

// KeyID is the kid of the signing key.
func (s *Signer) KeyID() string { return s.s.kid }

// Sign signs payload (JSON claims) as a compact JWS with the header
// {"alg":"EdDSA","kid":…,"typ":"at+jwt"}.
func (s *Signer) Sign(payload []byte) (string, error) {
	tok, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), s.s.private, jws.WithProtectedHeaders(s.s.headers)))
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return string(tok), nil
}

// PublicKey returns the published key with that ID. An unknown ID makes the
// Manager re-read the database (at most once a second), since another
// replica may have rotated. ok is false for a key that is not published.
func (m *Manager) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, bool, error) {
	if err := m.ensure(ctx); err != nil {
		return nil, false, err
	}
	m.mu.RLock()
	k, ok := m.public[kid]
	m.mu.RUnlock()
	if ok {
		return k, true, nil
	}
	m.mu.Lock()
	now := m.clock.Now()
	due := now.Sub(m.lastRefresh) >= time.Second
	if due {
		m.lastRefresh = now
	}
	m.mu.Unlock()
	if !due {
		return nil, false, nil
	}
	if err := m.Load(ctx); err != nil {
		return nil, false, err
	}
	m.mu.RLock()
	k, ok = m.public[kid]
	m.mu.RUnlock()
	return k, ok, nil
}

// JWKS returns the JWK Set document of every published key.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	if err := m.ensure(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.jwks, nil
}

// Rotate makes a new signing key current and retires the previous one,
// which stays published until its last token has expired. Keys retired
// long enough ago that no token of theirs can be alive are deleted.
func (m *Manager) Rotate(ctx context.Context) (*tollgate.SigningKey, error) {
	return m.rotate(ctx, 0)
}

// RotateIfDue rotates when the current key is at least every old, and
// returns the new key, or nil when no rotation was due. Replicas that check
// at once rotate only once.
func (m *Manager) RotateIfDue(ctx context.Context, every time.Duration) (*tollgate.SigningKey, error) {
	return m.rotate(ctx, every)
}

func (m *Manager) rotate(ctx context.Context, olderThan time.Duration) (*tollgate.SigningKey, error) {
	var created *tollgate.SigningKey
	var rows []tollgate.SigningKey
	err := m.store.InTx(ctx, func(q tollgate.Queries) error {
		created = nil
		var err error
		if rows, err = q.ListSigningKeys(ctx); err != nil {
			return err
		}
		now := tollgate.Timestamp(m.clock.Now())
		active := activeKey(rows)
		if active != nil && now.Sub(active.CreatedAt) < olderThan {
			return nil
		}
		k, err := m.newKey()
		if err != nil {
			return err
		}
		if active != nil {
			if err := q.RetireSigningKey(ctx, active.ID, now); err != nil {
				return err
			}
		}
		if err := q.CreateSigningKey(ctx, k); err != nil {
			return err
		}
		if _, err := q.DeleteSigningKeysRetiredBefore(ctx, now.Add(-publishFor-24*time.Hour)); err != nil {
			return err
		}
		created = k
		rows, err = q.ListSigningKeys(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("keys: rotate: %w", err)
	}
	return created, m.install(rows)
}
