package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/federation"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/internal/oidctest"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// newFetcher returns a Fetcher on clock that trusts the issuers' http
// origins, with cfg's other fields.
func newFetcher(t *testing.T, cfg federation.Config, clock *stacktest.Clock, issuers ...*oidctest.Issuer) *federation.Fetcher {
	t.Helper()
	for _, i := range issuers {
		cfg.Insecure = append(cfg.Insecure, i.URL)
	}
	if clock != nil {
		cfg.Clock = clock
	}
	return federation.New(cfg)
}

// mustKeys calls Keys and fails the test on an error or a count of keys
// other than want.
func mustKeys(t *testing.T, f *federation.Fetcher, issuer, kid string, want int) {
	t.Helper()
	keys, err := f.Keys(t.Context(), issuer, kid)
	if err != nil {
		t.Fatalf("Keys(%q): %v", kid, err)
	}
	if len(keys) != want {
		t.Fatalf("Keys(%q) = %d keys, want %d", kid, len(keys), want)
	}
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			t.Fatalf("Keys(%q) returned kid %q", kid, k.KeyID)
		}
	}
}

// fetches checks how many times the issuer's documents were asked for.
func fetches(t *testing.T, i *oidctest.Issuer, discovery, jwks int) {
	t.Helper()
	if got := i.DiscoveryFetches(); got != discovery {
		t.Errorf("DiscoveryFetches = %d, want %d", got, discovery)
	}
	if got := i.JWKSFetches(); got != jwks {
		t.Errorf("JWKSFetches = %d, want %d", got, jwks)
	}
}

func TestKeys(t *testing.T) {
	i := oidctest.New(t)
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), i)
	kid := i.KeyID()

	keys, err := f.Keys(t.Context(), i.URL, kid)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KeyID != kid || keys[0].Alg != "RS256" || keys[0].Key == nil {
		t.Fatalf("Keys = %+v", keys)
	}
	mustKeys(t, f, i.URL, kid, 1)
	mustKeys(t, f, i.URL, "", 1)
	fetches(t, i, 1, 1)
}

func TestKeysAllWhenKidIsEmpty(t *testing.T) {
	i := oidctest.New(t)
	i.Rotate()
	i.Rotate()
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), i)
	mustKeys(t, f, i.URL, "", 3)
}

func TestFetchRefused(t *testing.T) {
	other := oidctest.New(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name    string
		setup   func(i *oidctest.Issuer)
		cfg     federation.Config
		issuer  func(i *oidctest.Issuer) string // default i.URL
		secure  bool                            // do not allow i.URL as insecure
		want    string
		noFetch bool // the issuer must not be asked at all
	}{{
		name:    "http issuer not in Insecure",
		secure:  true,
		want:    "is not accepted: issuer must use https",
		noFetch: true,
	}, {
		name:    "issuer with a trailing slash",
		issuer:  func(i *oidctest.Issuer) string { return "https://issuer.example/" },
		want:    "must not end with a slash",
		noFetch: true,
	}, {
		name:  "redirect to another host",
		setup: func(i *oidctest.Issuer) { i.SetRedirect(other.URL + oidctest.DiscoveryPath) },
		want:  "could not be fetched: it was redirected to another host (" + other.URL + ")",
	}, {
		name:  "redirect to another host by a protocol-relative location",
		setup: func(i *oidctest.Issuer) { i.SetRedirect("//evil.example" + oidctest.DiscoveryPath) },
		want:  "it was redirected to another host (http://evil.example)",
	}, {
		name:  "redirect loop on the same host",
		setup: func(i *oidctest.Issuer) { i.SetRedirect(oidctest.DiscoveryPath) },
		want:  "it was redirected more than 3 times",
	}, {
		name:  "redirect to a missing page",
		setup: func(i *oidctest.Issuer) { i.SetRedirect("/nowhere") },
		want:  "could not be fetched: the answer was 404 Not Found (only 200 is accepted)",
	}, {
		name:  "discovery issuer mismatch",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"issuer": "https://other.example"}) },
		want:  `the discovery document's issuer "https://other.example" is not the issuer http://127.0.0.1:`,
	}, {
		name:  "discovery issuer missing",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"issuer": nil}) },
		want:  `the discovery document's issuer "" is not the issuer`,
	}, {
		name:  "discovery issuer with a trailing slash",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"issuer": i.URL + "/"}) },
		want:  `is not the issuer`,
	}, {
		name:  "jwks_uri over http on another host",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": "http://keys.example/jwks"}) },
		want:  `the jwks_uri "http://keys.example/jwks" of the issuer http://127.0.0.1:`,
	}, {
		name:  "jwks_uri relative",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": oidctest.JWKSPath}) },
		want:  "is not an absolute https URL",
	}, {
		name:  "jwks_uri with user info",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": "https://u:p@keys.example/jwks"}) },
		want:  "has user info",
	}, {
		name:  "jwks_uri missing",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": nil}) },
		want:  "has no jwks_uri",
	}, {
		name:  "jwks_uri not a string",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": 42}) },
		want:  "is not a JSON object with string members issuer and jwks_uri",
	}, {
		name:  "JWKS missing",
		setup: func(i *oidctest.Issuer) { i.SetDiscovery(map[string]any{"jwks_uri": i.URL + "/nowhere"}) },
		want:  "/nowhere) could not be fetched: the answer was 404 Not Found",
	}, {
		name:  "JWKS of 10 MiB",
		setup: func(i *oidctest.Issuer) { i.SetJWKSPadding(10 << 20) },
		want:  "/.well-known/jwks) is larger than 256 KiB",
	}, {
		name:  "slow issuer",
		setup: func(i *oidctest.Issuer) { i.SetDelay(5 * time.Second) },
		cfg:   federation.Config{Timeout: 300 * time.Millisecond},
		want:  "could not be fetched: timed out after 300ms",
	}, {
		name:  "discovery and JWKS together over the timeout",
		setup: func(i *oidctest.Issuer) { i.SetDelay(200 * time.Millisecond) },
		cfg:   federation.Config{Timeout: 300 * time.Millisecond},
		want:  "/.well-known/jwks) could not be fetched: timed out after 300ms",
	}, {
		name:   "connection refused",
		issuer: func(*oidctest.Issuer) string { return closed.URL },
		cfg:    federation.Config{Insecure: []string{closed.URL}},
		want:   "could not be fetched: the connection was refused",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := oidctest.New(t)
			if tt.setup != nil {
				tt.setup(i)
			}
			issuer := i.URL
			if tt.issuer != nil {
				issuer = tt.issuer(i)
			}
			cfg := tt.cfg
			if !tt.secure {
				cfg.Insecure = append(cfg.Insecure, i.URL)
			}
			f := federation.New(cfg)
			start := time.Now()
			keys, err := f.Keys(t.Context(), issuer, i.KeyID())
			elapsed := time.Since(start)
			if err == nil {
				t.Fatalf("Keys = %d keys, want an error", len(keys))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if errors.Is(err, federation.ErrUnknownKey) {
				t.Errorf("a failed fetch is ErrUnknownKey: %v", err)
			}
			if tt.noFetch && i.DiscoveryFetches() != 0 {
				t.Errorf("the issuer was asked %d times", i.DiscoveryFetches())
			}
			if tt.cfg.Timeout > 0 && elapsed > tt.cfg.Timeout+700*time.Millisecond {
				t.Errorf("Keys returned after %v, with a timeout of %v", elapsed, tt.cfg.Timeout)
			}
		})
	}
	if n := other.DiscoveryFetches(); n != 0 {
		t.Errorf("the other host was asked %d times", n)
	}
}

func TestFetchFollowsRedirectOnSameHost(t *testing.T) {
	i := oidctest.New(t)
	i.SetRedirect(i.URL + oidctest.DiscoveryAliasPath)
	f := newFetcher(t, federation.Config{}, nil, i)
	mustKeys(t, f, i.URL, i.KeyID(), 1)
	fetches(t, i, 2, 1)
}

func TestUnknownKidRefetchesAtMostOncePerMinute(t *testing.T) {
	i := oidctest.New(t)
	clock := stacktest.NewClock()
	f := newFetcher(t, federation.Config{}, clock, i)
	mustKeys(t, f, i.URL, i.KeyID(), 1)
	fetches(t, i, 1, 1)

	steps := []struct {
		after   time.Duration
		fetches int
	}{
		{0, 2},                // an unknown kid refetches
		{30 * time.Second, 2}, // again within a minute: no fetch
		{29 * time.Second, 2},
		{time.Second, 3}, // a minute after the last refetch
		{0, 3},
	}
	for n, s := range steps {
		clock.Add(s.after)
		_, err := f.Keys(t.Context(), i.URL, "unknown-kid")
		if !errors.Is(err, federation.ErrUnknownKey) {
			t.Fatalf("step %d: error %v, want ErrUnknownKey", n, err)
		}
		if want := `no key with kid "unknown-kid" in the JWKS of the issuer ` + i.URL + ` (keys are fetched again at most once a minute)`; err.Error() != want {
			t.Fatalf("step %d: error %q\nwant %q", n, err, want)
		}
		if got := i.JWKSFetches(); got != s.fetches {
			t.Fatalf("step %d: %d JWKS fetches, want %d", n, got, s.fetches)
		}
	}
	// The known kid is still served from the cache.
	mustKeys(t, f, i.URL, i.KeyID(), 1)
	fetches(t, i, 3, 3)
}

func TestRotationPickedUpByUnknownKid(t *testing.T) {
	i := oidctest.New(t)
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), i)
	old := i.KeyID()
	mustKeys(t, f, i.URL, old, 1)
	kid := i.Rotate()
	mustKeys(t, f, i.URL, kid, 1)
	mustKeys(t, f, i.URL, old, 1)
	mustKeys(t, f, i.URL, "", 2)
	fetches(t, i, 2, 2)
}

func TestTTLAndStaleKeys(t *testing.T) {
	i := oidctest.New(t)
	clock := stacktest.NewClock()
	ttl := 10 * time.Minute
	f := newFetcher(t, federation.Config{TTL: ttl, Timeout: 300 * time.Millisecond}, clock, i)
	kid := i.KeyID()
	mustKeys(t, f, i.URL, kid, 1)

	clock.Add(ttl - time.Second)
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 1, 1)

	clock.Add(time.Second) // expired: fetched again
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 2, 2)

	// The issuer breaks: the last good keys serve for another TTL, and
	// the issuer is asked again at most once a minute meanwhile.
	i.SetRedirect("/nowhere")
	clock.Add(ttl)
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 3, 2)
	clock.Add(30 * time.Second)
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 3, 2)
	clock.Add(30 * time.Second)
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 4, 2)

	// An unknown kid with stale keys and a broken issuer gets the fetch's
	// error, which says more than "unknown kid".
	if _, err := f.Keys(t.Context(), i.URL, "other"); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("unknown kid on a broken issuer: %v", err)
	}

	clock.Add(ttl) // 2×TTL after the last good fetch: no keys left
	_, err := f.Keys(t.Context(), i.URL, kid)
	if err == nil || !strings.Contains(err.Error(), "the answer was 404 Not Found") {
		t.Fatalf("after 2×TTL: %v, want the fetch's error", err)
	}
	fetches(t, i, 5, 2)
	// The failure is remembered for a minute.
	if _, err2 := f.Keys(t.Context(), i.URL, kid); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("within a minute of a failure: %v, want %v", err2, err)
	}
	fetches(t, i, 5, 2)

	i.SetRedirect("")
	clock.Add(time.Minute)
	mustKeys(t, f, i.URL, kid, 1)
	fetches(t, i, 6, 3)
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	i := oidctest.New(t)
	i.SetDelay(50 * time.Millisecond)
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), i)
	kid := i.KeyID()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			keys, err := f.Keys(t.Context(), i.URL, kid)
			if err == nil && len(keys) != 1 {
				err = errors.New("not one key")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	fetches(t, i, 1, 1)
}

func TestCallerHangingUpDoesNotFailOthers(t *testing.T) {
	i := oidctest.New(t)
	i.SetDelay(150 * time.Millisecond)
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), i)
	kid := i.KeyID()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := f.Keys(ctx, i.URL, kid)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // the first caller leads the fetch
	mustKeys(t, f, i.URL, kid, 1)
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the caller who hung up got %v", err)
	}
	fetches(t, i, 1, 1)
}

func TestMaxIssuers(t *testing.T) {
	a, b := oidctest.New(t), oidctest.New(t)
	clock := stacktest.NewClock()
	f := newFetcher(t, federation.Config{MaxIssuers: 1}, clock, a, b)
	mustKeys(t, f, a.URL, a.KeyID(), 1)
	clock.Add(time.Second)
	mustKeys(t, f, b.URL, b.KeyID(), 1) // a is evicted
	clock.Add(time.Second)
	mustKeys(t, f, a.URL, a.KeyID(), 1)
	fetches(t, a, 2, 2)
	fetches(t, b, 1, 1)
}

func TestKeysOfOneIssuerAreNotAnothers(t *testing.T) {
	a, b := oidctest.New(t), oidctest.New(t)
	f := newFetcher(t, federation.Config{}, stacktest.NewClock(), a, b)
	mustKeys(t, f, a.URL, a.KeyID(), 1)
	if _, err := f.Keys(t.Context(), b.URL, a.KeyID()); !errors.Is(err, federation.ErrUnknownKey) {
		t.Fatalf("another issuer's kid: %v, want ErrUnknownKey", err)
	}
}

func TestContentLengthOverMaxBytesIsNotRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10485760")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("{"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	}))
	t.Cleanup(srv.Close)
	f := federation.New(federation.Config{Insecure: []string{srv.URL}, MaxBytes: 1000, Timeout: 5 * time.Second})
	start := time.Now()
	_, err := f.Keys(t.Context(), srv.URL, "")
	if err == nil || !strings.HasSuffix(err.Error(), "is larger than 1000 bytes") {
		t.Fatalf("error %v, want larger than 1000 bytes", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Keys took %v: it waited for the body", d)
	}
}

// FuzzHostileAnswers serves arbitrary bytes as the discovery document or
// as the JWKS: Keys must return keys or an error, never panic, and never
// put the bytes in its error.
func FuzzHostileAnswers(f *testing.F) {
	f.Add(false, []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add(false, []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""},{"kty":"oct","k":"c2VjcmV0"},null,1]}`))
	f.Add(false, []byte(`{"keys":{}}`))
	f.Add(true, []byte(`{"issuer":null,"jwks_uri":["x"]}`))
	f.Add(true, []byte("\x00\xff<html>secret-body</html>"))
	f.Fuzz(func(t *testing.T, asDiscovery bool, body []byte) {
		var url string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/openid-configuration" && !asDiscovery {
				_, _ = w.Write([]byte(`{"issuer":"` + url + `","jwks_uri":"` + url + `/jwks"}`))
				return
			}
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		url = srv.URL
		fetcher := federation.New(federation.Config{Insecure: []string{url}, Timeout: time.Second})
		keys, err := fetcher.Keys(t.Context(), url, "")
		if err == nil && len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		if err != nil && len(body) >= 8 && strings.Contains(err.Error(), string(body)) {
			t.Fatalf("the error %q quotes the body", err)
		}
	})
}

// TestPrivateAddressesAreRefused: an https issuer whose host resolves to
// a loopback or private address is not fetched (SSRF), while an insecure
// origin allowed for tests is.
func TestPrivateAddressesAreRefused(t *testing.T) {
	f := federation.New(federation.Config{Timeout: time.Second})
	for _, issuer := range []string{"https://127.0.0.1:9", "https://localhost:9", "https://10.1.2.3", "https://169.254.169.254", "https://[::1]:9"} {
		_, err := f.Keys(t.Context(), issuer, "")
		if err == nil || !strings.Contains(err.Error(), "not public") {
			t.Errorf("%s: %v, want a refusal of a non-public address", issuer, err)
		}
	}
}

// TestJWKSBounds: a JWK Set with more than MaxKeys signing keys, or two
// keys with one kid, is refused, so that no issuer can make one exchange
// try many keys.
func TestJWKSBounds(t *testing.T) {
	for name, keys := range map[string][]any{
		"too many keys":  jwkList(federation.MaxKeys+1, func(i int) string { return fmt.Sprintf("k%d", i) }),
		"duplicate kids": jwkList(2, func(int) string { return "same" }),
	} {
		iss := jwksServer(t, keys)
		f := federation.New(federation.Config{Insecure: []string{iss}})
		if _, err := f.Keys(t.Context(), iss, ""); err == nil || (!strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "two signing keys")) {
			t.Errorf("%s: %v", name, err)
		}
	}
	iss := jwksServer(t, jwkList(federation.MaxKeys, func(i int) string { return fmt.Sprintf("k%d", i) }))
	if keys, err := federation.New(federation.Config{Insecure: []string{iss}}).Keys(t.Context(), iss, "k3"); err != nil || len(keys) != 1 {
		t.Fatalf("%d keys: %v, %v", federation.MaxKeys, keys, err)
	}
}

// jwkList is n Ed25519 public JWKs, the i-th with kid(i).
func jwkList(n int, kid func(int) string) []any {
	out := make([]any, n)
	for i := range out {
		var m map[string]any
		json.Unmarshal(josetest.NewKey("EdDSA", kid(i), 0).PublicJWK(), &m)
		out[i] = m
	}
	return out
}

// jwksServer is an issuer on 127.0.0.1 that publishes keys.
func jwksServer(t *testing.T, keys []any) string {
	var url string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			json.NewEncoder(w).Encode(map[string]any{"issuer": url, "jwks_uri": url + "/jwks"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(srv.Close)
	url = srv.URL
	return url
}

// TestPublicAddresses: what the dialer lets Tollgate connect to.
func TestPublicAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:4700::6810:85e5": true, "64:ff9b::5db8:d822": true, "2002:5db8:d822::1": true,
		"127.0.0.1": false, "10.1.2.3": false, "169.254.169.254": false, "100.64.0.1": false, "0.1.2.3": false,
		"198.18.0.1": false, "192.0.0.8": false, "240.0.0.1": false, "255.255.255.255": false, "::1": false, "fe80::1": false,
		"fc00::1": false, "64:ff9b::a9fe:a9fe": false, "64:ff9b:1::a00:1": false, "2002:a9fe:a9fe::1": false, "::7f00:1": false,
		"::ffff:10.0.0.1": false, "ff02::1": false, "::": false,
	} {
		if got := federation.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: public = %v, want %v", addr, got, want)
		}
	}
}
