// Package webhook signs and sends webhook messages as the Standard
// Webhooks specification says (https://www.standardwebhooks.com): each
// POST carries webhook-id, webhook-timestamp and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>", keyed by the bytes of a
// "whsec_" secret. Sending refuses redirects and, unless an origin was
// allowed for tests, every address that is not public (SSRF).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tollgate/tollgate"
)

// SecretPrefix starts every webhook secret.
const SecretPrefix = "whsec_"

// NewSecret returns a new secret: "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// key returns the HMAC key of a secret: the bytes its base64 holds.
func key(secret string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(b) == 0 {
		return nil, errors.New("webhook: the secret is not whsec_ and base64")
	}
	return b, nil
}

// Sign returns the webhook-signature header of a message: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body".
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, k)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Sender POSTs messages. Its zero value is not usable: make one with
// NewSender.
type Sender struct {
	client *http.Client
}

// Timeout bounds one attempt, connection included.
const Timeout = 10 * time.Second

// NewSender returns a sender that may reach the exact origins in insecure
// ("http://127.0.0.1:PORT", for tests) on loopback, and otherwise only
// public addresses, checked on the address actually dialled, after name
// resolution, so that a name that resolves inside the network is refused
// too. It uses no proxy and follows no redirect.
func NewSender(insecure []string) *Sender {
	allowed := map[string]bool{}
	for _, o := range insecure {
		if u, err := url.Parse(o); err == nil {
			allowed[u.Host] = true
		}
	}
	dialer := &net.Dialer{Timeout: Timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: cannot tell where %s is", address)
		}
		if !tollgate.AllowedWebhookAddress(ap.Addr(), allowed[address]) {
			return &RefusedError{Addr: ap.Addr().String()}
		}
		return nil
	}}
	tr := &http.Transport{Proxy: nil, DialContext: dialer.DialContext, TLSHandshakeTimeout: Timeout,
		ResponseHeaderTimeout: Timeout, MaxResponseHeaderBytes: 64 << 10, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	return &Sender{client: &http.Client{Transport: tr, Timeout: Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// RefusedError is a connection refused before it was made: the address is
// not public.
type RefusedError struct{ Addr string }

func (e *RefusedError) Error() string {
	return "refused to connect to " + e.Addr + ": not a public address"
}

// Message is what one attempt sends.
type Message struct {
	ID        string // webhook-id, the same on every attempt
	Timestamp time.Time
	Payload   []byte
}

// Send POSTs m to rawURL signed with secret and returns the status the
// receiver answered (0 when it did not). A 2xx is delivered; anything
// else, a 3xx included, is an error saying why, safe to show to the
// webhook's owner.
func (s *Sender) Send(ctx context.Context, rawURL, secret string, m Message) (int, error) {
	sig, err := Sign(secret, m.ID, m.Timestamp, m.Payload)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(m.Payload))
	if err != nil {
		return 0, fmt.Errorf("the URL cannot be requested: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tollgate-Webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(m.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return 0, refused
		}
		return 0, fmt.Errorf("no answer: %s", plainNetError(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("the receiver answered %d, a redirect, which is not followed", resp.StatusCode)
	}
	return resp.StatusCode, fmt.Errorf("the receiver answered %d", resp.StatusCode)
}

// plainNetError says what went wrong without the request's URL, which
// the error of http.Client repeats.
func plainNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return "timed out"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
