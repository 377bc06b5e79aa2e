package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/oauth"
	"golang.org/x/sync/singleflight"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxBytes     = 256 << 10
	DefaultTTL          = 10 * time.Minute
	DefaultRefetchAfter = time.Minute
	DefaultMaxIssuers   = 1000
)

// MaxKeys bounds the signing keys of an issuer's JWK Set: more, or two
// with one kid, make the set unusable. Platforms publish a handful.
const MaxKeys = 20

// Config tunes a Fetcher. Zero fields take the defaults above.
type Config struct {
	// Insecure lists exact origins like "http://127.0.0.1:PORT" allowed as
	// issuers without https, and as the origins of their jwks_uri (tests
	// only).
	Insecure []string
	// Timeout bounds one fetch: the discovery document and the JWKS
	// together, redirects included. Default 5s.
	Timeout time.Duration
	// MaxBytes bounds the body of each document. Default 256 KiB.
	MaxBytes int64
	// TTL is how long fetched keys are used before they are fetched again.
	// When that fetch fails, the last good keys are still used for up to
	// another TTL. Default 10m.
	TTL time.Duration
	// RefetchAfter is the least time between two fetches of one issuer
	// caused by an unknown kid, and how long a failed fetch is remembered
	// before the issuer is asked again. Default 1m.
	RefetchAfter time.Duration
	// MaxIssuers bounds the issuers cached; when full, the one fetched
	// longest ago is dropped. Default 1000.
	MaxIssuers int
	// Clock tells the time of the cache (not of the fetches' timeouts).
	// Default tollgate.SystemClock{}.
	Clock tollgate.Clock
	// Transport makes the requests. Default: a clone of
	// http.DefaultTransport with dial, TLS handshake and response header
	// timeouts of Timeout, no proxy, and connections only to public
	// addresses (or the Insecure origins).
	Transport http.RoundTripper
}

// ErrUnknownKey is in the chain of the error Keys returns when the issuer
// publishes no usable key with the wanted kid, even after the refetch it
// allows.
var ErrUnknownKey = errors.New("no key with that kid in the issuer's JWKS")

// Fetcher fetches and caches external issuers' signing keys. It is safe
// for concurrent use.
type Fetcher struct {
	cfg      Config
	insecure []string // origins of cfg.Insecure, for jwks_uri
	client   *http.Client
	group    singleflight.Group

	mu      sync.Mutex
	issuers map[string]*entry
}

// entry is what the cache knows of one issuer.
type entry struct {
	keys      []*oauth.PublicKey // of the last successful fetch
	fetchedAt time.Time          // of the last successful fetch; zero if none
	kidFetch  time.Time          // when an unknown kid last caused a fetch
	failedAt  time.Time          // of the last fetch, when it failed
	err       error              // of the last fetch, when it failed
	touched   time.Time          // of the last fetch, for eviction
	gen       uint64             // fetches completed
}

// New returns a Fetcher with cfg's zero fields set to their defaults.
func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.RefetchAfter <= 0 {
		cfg.RefetchAfter = DefaultRefetchAfter
	}
	if cfg.MaxIssuers <= 0 {
		cfg.MaxIssuers = DefaultMaxIssuers
	}
	if cfg.Clock == nil {
		cfg.Clock = tollgate.SystemClock{}
	}
	cfg.Insecure = append([]string(nil), cfg.Insecure...)
	if cfg.Transport == nil {
		cfg.Transport = defaultTransport(cfg.Timeout, cfg.Insecure)
	}
	f := &Fetcher{cfg: cfg, issuers: make(map[string]*entry)}
	for _, o := range cfg.Insecure {
		if o = originOf(o); o != "" {
			f.insecure = append(f.insecure, o)
		}
	}
	f.client = &http.Client{
		Transport:     cfg.Transport,
		CheckRedirect: checkRedirect,
		// No Jar: no cookies. No Timeout: each fetch has its context's.
	}
	return f
}

// Keys returns the issuer's usable signing keys whose kid is kid, or all
// of them when kid is "". Callers must not modify the keys. It fetches
// from any issuer that passes tollgate.ValidateIssuer with the configured
// insecure origins, so callers ask only about issuers a federated
// credential trusts.
//
// Keys are fetched when none are cached, when they are older than TTL,
// and when none has the wanted kid, but for that last cause at most once
// per RefetchAfter per issuer. Concurrent callers share one fetch, which
// is detached from their contexts: a caller whose ctx ends gets ctx's
// error while the fetch goes on for the others. When a fetch fails, the
// last good keys are used while they are less than 2×TTL old, and the
// issuer is not asked again for RefetchAfter (the same error is returned
// meanwhile when there are no good keys).
//
// Errors are plain errors with messages safe to show to the client: an
// issuer refused by ValidateIssuer, a fetch that failed (time-out, status,
// redirect, size, a discovery document or JWKS that breaks the rules), or,
// with ErrUnknownKey in the chain, no key with that kid.
func (f *Fetcher) Keys(ctx context.Context, issuer, kid string) ([]*oauth.PublicKey, error) {
	if err := tollgate.ValidateIssuer(issuer, f.cfg.Insecure); err != nil {
		return nil, fmt.Errorf("the issuer %s is not accepted: %s", safe(issuer), tollgate.ErrorMessage(err))
	}
	now := f.cfg.Clock.Now()
	byKid := false
	f.mu.Lock()
	e := f.issuers[issuer]
	var gen uint64
	if e != nil {
		gen = e.gen
		switch {
		case f.fresh(e, now):
			if keys := pick(e.keys, kid); len(keys) > 0 {
				f.mu.Unlock()
				return keys, nil
			}
			if now.Before(e.kidFetch.Add(f.cfg.RefetchAfter)) {
				f.mu.Unlock()
				return nil, f.unknown(issuer, kid)
			}
			byKid = true
		case e.err != nil && now.Before(e.failedAt.Add(f.cfg.RefetchAfter)):
			r := f.resultOf(e, now)
			f.mu.Unlock()
			return f.answer(issuer, kid, r)
		}
	}
	f.mu.Unlock()

	ch := f.group.DoChan(issuer, func() (any, error) {
		return f.refresh(ctx, issuer, gen, byKid), nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("the keys of the issuer %s were not fetched: %w", safe(issuer), context.Cause(ctx))
	case res := <-ch:
		return f.answer(issuer, kid, res.Val.(result))
	}
}

// result is what one fetch leaves for the callers sharing it.
type result struct {
	keys   []*oauth.PublicKey // usable keys, fresh or within their grace
	usable bool               // keys may be used
	err    error              // of the fetch, when it failed
}

// answer picks kid's keys from r: the keys when some match, else r's
// error when the fetch failed, else an ErrUnknownKey error.
func (f *Fetcher) answer(issuer, kid string, r result) ([]*oauth.PublicKey, error) {
	if r.usable {
		if keys := pick(r.keys, kid); len(keys) > 0 {
			return keys, nil
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return nil, f.unknown(issuer, kid)
}

// refresh fetches the issuer's keys and updates the cache, unless a fetch
// completed since the caller looked (gen), in which case it answers from
// the cache. It never returns an error: the fetch's is in the result.
func (f *Fetcher) refresh(ctx context.Context, issuer string, gen uint64, byKid bool) result {
	now := f.cfg.Clock.Now()
	f.mu.Lock()
	if e := f.issuers[issuer]; e != nil && e.gen != gen {
		r := f.resultOf(e, now)
		f.mu.Unlock()
		return r
	}
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.Timeout)
	defer cancel()
	keys, err := f.fetchSafely(ctx, issuer)

	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.issuers[issuer]
	if e == nil {
		f.evict()
		e = &entry{}
		f.issuers[issuer] = e
	}
	e.gen++
	e.touched = now
	if byKid {
		e.kidFetch = now
	}
	if err != nil {
		e.err, e.failedAt = err, now
	} else {
		e.keys, e.fetchedAt, e.err = keys, now, nil
	}
	return f.resultOf(e, now)
}

// fetchSafely is fetch, with a panic in the parsing of the issuer's
// answers turned into an error: it runs in singleflight's goroutine, where
// a panic would end the process.
func (f *Fetcher) fetchSafely(ctx context.Context, issuer string) (keys []*oauth.PublicKey, err error) {
	defer func() {
		if recover() != nil {
			keys, err = nil, fmt.Errorf("the keys of the issuer %s could not be read", safe(issuer))
		}
	}()
	return f.fetch(ctx, issuer)
}

// resultOf is what the cache entry e offers at now. f.mu is held.
func (f *Fetcher) resultOf(e *entry, now time.Time) result {
	return result{
		keys:   e.keys,
		usable: !e.fetchedAt.IsZero() && now.Before(e.fetchedAt.Add(2*f.cfg.TTL)),
		err:    e.err,
	}
}

// fresh reports whether e's keys are less than TTL old at now.
func (f *Fetcher) fresh(e *entry, now time.Time) bool {
	return !e.fetchedAt.IsZero() && now.Before(e.fetchedAt.Add(f.cfg.TTL))
}

// evict drops the issuer fetched longest ago when the cache is full.
// f.mu is held.
func (f *Fetcher) evict() {
	if len(f.issuers) < f.cfg.MaxIssuers {
		return
	}
	var oldest string
	var at time.Time
	for iss, e := range f.issuers {
		if oldest == "" || e.touched.Before(at) {
			oldest, at = iss, e.touched
		}
	}
	delete(f.issuers, oldest)
}

// pick returns a new slice of the keys whose kid is kid, or of all keys
// when kid is "".
func pick(keys []*oauth.PublicKey, kid string) []*oauth.PublicKey {
	var out []*oauth.PublicKey
	for _, k := range keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// unknownKeyError says that no key has the wanted kid.
type unknownKeyError struct {
	issuer, kid string
	every       time.Duration
}

func (e *unknownKeyError) Error() string {
	if e.kid == "" {
		return fmt.Sprintf("the JWKS of the issuer %s has no usable signing key (EdDSA, ES256, RS256 or PS256; keys are fetched again at most once %s)",
			safe(e.issuer), every(e.every))
	}
	return fmt.Sprintf("no key with kid %s in the JWKS of the issuer %s (keys are fetched again at most once %s)",
		quote(e.kid), safe(e.issuer), every(e.every))
}

func (e *unknownKeyError) Unwrap() error { return ErrUnknownKey }

// unknown returns the error of a kid no cached key has.
func (f *Fetcher) unknown(issuer, kid string) error {
	return &unknownKeyError{issuer: issuer, kid: kid, every: f.cfg.RefetchAfter}
}
