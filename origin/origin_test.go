package origin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/origin"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://sub.example.com/", "https://sub.example.com", ""},
		{"https://sub.example.com", "https://sub.example.com", ""},
		{"HTTPS://Sub.Example.COM", "https://sub.example.com", ""},
		{"https://a.com:443", "https://a.com", ""},
		{"http://a.com:80/", "http://a.com", ""},
		{"https://a.com:80", "https://a.com:80", ""},
		{"http://a.com:443", "http://a.com:443", ""},
		{"http://localhost:8080", "http://localhost:8080", ""},
		{"  https://a.com  ", "https://a.com", ""},
		{"https://bücher.example", "https://xn--bcher-kva.example", ""},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", ""},
		{"https://a.com.", "https://a.com", ""},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000", ""},
		{"http://[::1]:3000", "http://[::1]:3000", ""},
		{"https://*.example.com", "", "Wildcards are not supported"},
		{"*", "", "list each subdomain"},
		{"https://a.com/app", "", "has a path"},
		{"https://a.com//", "", "has a path"},
		{"https://a.com?x=1", "", "query or fragment"},
		{"https://a.com/#top", "", "query or fragment"},
		{"https://user:pw@a.com", "", "user name or password"},
		{"ftp://a.com", "", "http or https"},
		{"javascript://a.com", "", "http or https"},
		{"a.com", "", "full origin"},
		{"//a.com", "", "no scheme"},
		{"http://a..com", "", "not a valid host"},
		{"http://\x00", "", "not a valid host"},
		{"https://", "", "host is missing"},
		{"https://a.com:0", "", "port number"},
		{"https://a.com:65536", "", "port number"},
		{"https://a.com:0443", "", "port number"},
		{"https://a.com:", "", "port is empty"},
		{"https://a.com:+1", "", "port number"},
		{"https://a b.com", "", "not a valid host"},
		{"https://[1.2.3.4]", "", "IPv6"},
		{"", "", "empty"},
		{"null", "", "full origin"},
	} {
		got, err := origin.Normalize(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Normalize(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.err)
		}
	}
	if _, err := origin.Normalize("https://*.a.com"); !errors.Is(err, origin.ErrWildcard) {
		t.Fatal("a wildcard error does not wrap ErrWildcard")
	}
}

func TestDomains(t *testing.T) {
	got, err := origin.Domains([]string{"https://a.com/", "https://A.com:443", "http://a.com", "https://b.a.com"})
	if err != nil || strings.Join(got, " ") != "https://a.com http://a.com https://b.a.com" {
		t.Fatalf("Domains = %v, %v", got, err)
	}
	if _, err := origin.Domains([]string{"https://a.com", "https://*.a.com"}); err == nil || !strings.HasPrefix(err.Error(), "Domain 2: Wildcards") {
		t.Fatalf("error does not name the entry: %v", err)
	}
}

func TestRequestOrigins(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"https://example.com", "https://example.com"},
		{"https://Example.com:443", "https://example.com"},
		{"null", ""},
		{"", ""},
		{"https://example.com/path", ""}, // an Origin header never has a path
	} {
		if got := origin.FromHeader(tc.header); got != tc.want {
			t.Errorf("FromHeader(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
	for _, tc := range []struct{ ref, want string }{
		{"https://example.com/page?q=1#x", "https://example.com"},
		{"https://example.com:443/", "https://example.com"},
		{"http://example.com:8080/a/b", "http://example.com:8080"},
		{"https://user:pw@example.com/x", "https://example.com"},
		{"about:blank", ""},
		{"/relative/path", ""},
		{"ftp://example.com/file", ""},
		{"", ""},
	} {
		if got := origin.FromURL(tc.ref); got != tc.want {
			t.Errorf("FromURL(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	// Look-alikes are different origins.
	a, _ := origin.Normalize("https://example.com")
	for _, other := range []string{"https://evil.com.example.com", "https://example.com.evil.com", "http://example.com", "https://www.example.com"} {
		if b := origin.FromHeader(other); b == a {
			t.Errorf("%s matched %s", other, a)
		}
	}
}

// FuzzNormalize: never a panic; a normalized origin normalizes to itself,
// contains no wildcard, path, query or userinfo, and is what a browser's
// Origin header for it reads as.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"https://a.com/", "HTTP://B.com:80", "https://bücher.example:8443", "http://[::1]:1", "https://*.a", "https://a.com?x", "x://y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := origin.Normalize(s)
		if err != nil {
			return
		}
		again, err := origin.Normalize(o)
		if err != nil || again != o {
			t.Fatalf("%q normalized to %q, which normalizes to %q, %v", s, o, again, err)
		}
		if strings.ContainsAny(o, "*?#@ ") || strings.Count(o, "/") != 2 || strings.ToLower(o) != o {
			t.Fatalf("%q normalized to %q", s, o)
		}
		if origin.FromHeader(o) != o || origin.FromURL(o+"/path?q") != o {
			t.Fatalf("%q does not read back from a header or a URL", o)
		}
	})
}
