package tollgate_test

import (
	"net/netip"
	"net/url"
	"testing"

	"github.com/tollgate/tollgate"
)

// FuzzValidateWebhookURL: whatever the input, an accepted URL is https
// (or an origin listed as insecure), absolute, without user info or
// fragment, and never names a private or loopback address literally.
func FuzzValidateWebhookURL(f *testing.F) {
	insecure := []string{"http://127.0.0.1:9999"}
	for _, s := range []string{"https://hooks.example.com/x", "http://127.0.0.1:9999/h", "https://127.0.0.1/", "https://[::ffff:127.0.0.1]/",
		"https://0x7f.1/", "https://u@h.example/", "https://h.example/#f", "https://h.example./", "HTTPS://H.EXAMPLE/", "https://%31%30.0.0.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if tollgate.ValidateWebhookURL(raw, insecure) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.User != nil || u.Fragment != "" || u.Host == "" {
			t.Fatalf("accepted %q", raw)
		}
		if u.Scheme != "https" && u.Scheme+"://"+u.Host != insecure[0] {
			t.Fatalf("accepted %q: not https", raw)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && u.Scheme == "https" && !tollgate.AllowedWebhookAddress(a, false) {
			t.Fatalf("accepted %q: a private address", raw)
		}
	})
}

// TestAllowedWebhookAddress: addresses that reach inside the network are
// refused however they are written, and public ones are allowed.
func TestAllowedWebhookAddress(t *testing.T) {
	for s, want := range map[string]bool{
		"93.184.215.14": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "0.0.0.0": false, "::": false,
		"169.254.169.254": false, "fd00:ec2::254": false, "100.100.100.200": false,
		"64:ff9b::a00:1":   false, // NAT64, well-known prefix: 10.0.0.1
		"64:ff9b:1::a00:1": false, // NAT64, local-use prefix (RFC 8215): 10.0.0.1
	} {
		if got := tollgate.AllowedWebhookAddress(netip.MustParseAddr(s), false); got != want {
			t.Errorf("%s: allowed %v, want %v", s, got, want)
		}
	}
}
