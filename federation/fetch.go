package federation

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/tollgate/tollgate/oauth"
)

// maxRedirects bounds the redirects one request follows.
const maxRedirects = 3

// discoveryPath is where an issuer's discovery document is (OpenID
// Connect Discovery 1.0 §4).
const discoveryPath = "/.well-known/openid-configuration"

// fetch reads the issuer's discovery document (OpenID Connect Discovery
// 1.0 §4), checks it (§4.3: its issuer is the issuer, exactly; its
// jwks_uri is https), then reads the JWK Set it names (RFC 7517 §5) and
// returns its usable signing keys. ctx bounds the whole fetch.
func (f *Fetcher) fetch(ctx context.Context, issuer string) ([]*oauth.PublicKey, error) {
	what := "the discovery document of the issuer " + safe(issuer)
	body, err := f.get(ctx, issuer+discoveryPath, what)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object with string members issuer and jwks_uri", what)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("the discovery document's issuer %s is not the issuer %s (they must be equal exactly)", quote(doc.Issuer), safe(issuer))
	}
	jwksURI, err := f.jwksURI(issuer, doc.JWKSURI)
	if err != nil {
		return nil, err
	}
	what = fmt.Sprintf("the JWKS of the issuer %s (%s)", safe(issuer), safe(jwksURI))
	if body, err = f.get(ctx, jwksURI, what); err != nil {
		return nil, err
	}
	keys, err := oauth.ParseJWKSetKeys(body)
	if err != nil {
		return nil, fmt.Errorf("%s is not a JWK Set", what)
	}
	// Each exchange tries the keys that have its token's kid: an issuer
	// must not make it try many (a tenant could register an issuer that
	// makes every exchange cost thousands of verifications).
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%s has %d signing keys: at most %d are accepted", what, len(keys), MaxKeys)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k.KeyID] {
			return nil, fmt.Errorf("%s has two signing keys with the kid %s", what, quote(k.KeyID))
		}
		seen[k.KeyID] = true
	}
	return keys, nil
}

// jwksURI checks a discovery document's jwks_uri: an absolute https URL
// without user info, or an http URL under one of the insecure origins.
func (f *Fetcher) jwksURI(issuer, raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("the discovery document of the issuer %s has no jwks_uri", safe(issuer))
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		return "", fmt.Errorf("the jwks_uri of the issuer %s has user info", safe(issuer))
	}
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("the jwks_uri %s of the issuer %s is not an absolute https URL", quote(raw), safe(issuer))
	}
	if u.Scheme == "https" || slices.Contains(f.insecure, u.Scheme+"://"+u.Host) {
		return raw, nil
	}
	return "", fmt.Errorf("the jwks_uri %s of the issuer %s does not use https", quote(raw), safe(issuer))
}

// get reads the body of a 200 answer to a GET of rawURL, at most
// MaxBytes of it. what names the document in errors.
func (f *Fetcher) get(ctx context.Context, rawURL, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s could not be fetched: its URL is not valid", what)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s could not be fetched: %s", what, f.reason(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s could not be fetched: the answer was %d %s (only 200 is accepted)",
			what, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	tooLarge := fmt.Errorf("%s is larger than %s", what, size(f.cfg.MaxBytes))
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s could not be read: %s", what, f.reason(ctx, err))
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return nil, tooLarge
	}
	return body, nil
}

// redirectError is a redirect the client refused.
type redirectError struct{ reason string }

func (e *redirectError) Error() string { return e.reason }

// checkRedirect allows at most maxRedirects redirects, each to the scheme
// and host (with port) of the request it answered, without user info.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return &redirectError{fmt.Sprintf("it was redirected more than %d times", maxRedirects)}
	}
	prev, next := via[len(via)-1].URL, req.URL
	target := safe(next.Scheme + "://" + next.Host)
	switch {
	case !strings.EqualFold(next.Host, prev.Host):
		return &redirectError{fmt.Sprintf("it was redirected to another host (%s)", target)}
	case next.Scheme != prev.Scheme:
		return &redirectError{fmt.Sprintf("it was redirected to another scheme (%s)", target)}
	case next.User != nil:
		return &redirectError{"it was redirected to a URL with user info"}
	}
	return nil
}

// reason says in words why a request failed, without anything the server
// sent: the transport's own messages may quote a malformed answer.
func (f *Fetcher) reason(ctx context.Context, err error) string {
	var (
		redirect *redirectError
		netErr   net.Error
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		tlsErr   tls.RecordHeaderError
		opErr    *net.OpError
	)
	switch {
	case errors.As(err, &redirect):
		return redirect.reason
	case errors.Is(err, errNotPublic):
		return errNotPublic.Error() + " (private, loopback and link-local addresses are refused)"
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out after " + f.cfg.Timeout.String()
	case errors.As(err, &dnsErr):
		return "its host name could not be resolved"
	case errors.As(err, &certErr):
		return "its TLS certificate could not be verified: " + clip(certErr.Err.Error())
	case errors.As(err, &tlsErr):
		return "it did not answer with TLS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "the connection was closed before the answer was complete"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "the connection failed"
	}
	return "no valid HTTP answer was received"
}

// defaultTransport is a clone of http.DefaultTransport whose dial, TLS
// handshake and response header waits are each bounded by timeout, and
// whose response headers are bounded in size.
func defaultTransport(timeout time.Duration, insecure []string) *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second}
	}
	// Connections go straight to the issuer, so that the address check
	// below sees the issuer's address, not a proxy's.
	t.Proxy = nil
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: publicOnly(insecure)}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = timeout
	t.ResponseHeaderTimeout = timeout
	t.MaxResponseHeaderBytes = 64 << 10
	return t
}

// publicOnly refuses connections to addresses that are not public, so
// that an issuer URL, its jwks_uri or a DNS answer cannot make Tollgate
// probe its own network (SSRF): loopback, private (RFC 1918, fc00::/7),
// link-local (cloud metadata endpoints among them), shared, multicast,
// unspecified and the other special-purpose ranges (notPublic), also when
// they are embedded in an IPv6 transition address (NAT64, 6to4,
// IPv4-compatible and -mapped). The host:port of an allowed insecure
// origin (a test issuer on 127.0.0.1) is the exception.
func publicOnly(insecure []string) func(network, address string, _ syscall.RawConn) error {
	allowed := map[string]bool{}
	for _, o := range insecure {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			allowed[u.Host] = true
		}
	}
	return func(network, address string, _ syscall.RawConn) error {
		if allowed[address] {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return errNotPublic
		}
		return nil
	}
}

// notPublic are the special-purpose ranges (RFC 6890 and its updates)
// besides those netip.Addr's methods name.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("2001::/23"), netip.MustParsePrefix("2001:db8::/32"),
}

// embedded are IPv6 ranges that carry an IPv4 address, at the byte offset
// given: the IPv4 address must be public too.
var embedded = []struct {
	prefix netip.Prefix
	at     int
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12},   // NAT64 (RFC 6052)
	{netip.MustParsePrefix("64:ff9b:1::/48"), 12}, // local-use NAT64 (RFC 8215)
	{netip.MustParsePrefix("2002::/16"), 2},       // 6to4 (RFC 3056)
	{netip.MustParsePrefix("::/96"), 12},          // IPv4-compatible (deprecated)
}

// public reports whether ip is an address Tollgate may fetch from.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || (ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.Is6() {
		b := ip.As16()
		for _, e := range embedded {
			if e.prefix.Contains(ip) {
				return public(netip.AddrFrom4([4]byte(b[e.at : e.at+4])))
			}
		}
	}
	return true
}

// errNotPublic refuses a connection to a non-public address.
var errNotPublic = errors.New("the issuer resolves to an address that is not public")

// originOf is the scheme://host of a URL, or "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// maxShown bounds the length of a value quoted in an error.
const maxShown = 120

// clip cuts s to maxShown bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	n := maxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// quote is s, clipped, in Go quotes: for values an untrusted party chose.
func quote(s string) string { return strconv.Quote(clip(s)) }

// safe is s clipped, and quoted only if it holds anything but printable
// characters and no spaces: for URLs, mostly already checked.
func safe(s string) string {
	s = clip(s)
	if strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || !strconv.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// size says n bytes in KiB or MiB when it is a whole number of them.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// every says how often once per d is: "a minute", "every 30s".
func every(d time.Duration) string {
	switch d {
	case time.Minute:
		return "a minute"
	case time.Hour:
		return "an hour"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return "every " + s
}
