// Package origin parses and compares web origins (RFC 6454) the way public
// API tokens need them (DESIGN.md A4, A5): an origin is a scheme (http or
// https), a host (lowercase, internationalized names in punycode) and a
// port (left out when it is the scheme's default), written
// "https://app.example.com" or "http://localhost:8080". Two origins match
// only when these are equal: http and https differ, and so do subdomains.
package origin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrWildcard is wrapped by the error for a domain with '*'.
var ErrWildcard error = &Problem{msg: "Wildcards are not supported: list each subdomain as its own origin, such as https://app.example.com."}

// Problem is what is wrong with a domain, in a sentence a person reads:
// the API and the console show it as it is.
type Problem struct {
	msg string
	err error // what it wraps (ErrWildcard), or nil
}

func (p *Problem) Error() string { return p.msg }

// Unwrap returns the error the problem wraps.
func (p *Problem) Unwrap() error { return p.err }

func problem(format string, args ...any) error { return &Problem{msg: fmt.Sprintf(format, args...)} }

// maxLen bounds an origin's length.
const maxLen = 2048

var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false), idna.Transitional(false))

// Normalize parses a configured domain of a public token: a full origin,
// with nothing after the host and port but an optional trailing "/". It
// returns the origin in canonical form, or an error that says what is
// wrong: a wildcard, a path, a query or fragment, userinfo, a scheme other
// than http or https, or a bad host or port.
func Normalize(domain string) (string, error) {
	s := strings.TrimSpace(domain)
	switch {
	case s == "":
		return "", problem("The domain is empty.")
	case len(s) > maxLen:
		return "", problem("The domain is longer than %d characters.", maxLen)
	case strings.Contains(s, "*"):
		return "", ErrWildcard
	case !utf8.ValidString(s):
		return "", problem("The domain is not valid UTF-8.")
	}
	if strings.HasPrefix(s, "//") {
		return "", problem("%q has no scheme: write it as https:%s or http:%s.", s, s, s)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", problem("%q is not a full origin: write it with its scheme, such as https://%s.", s, strings.TrimRight(s, "/"))
	}
	if strings.ContainsAny(rest, "?#") {
		return "", problem("%q has a query or fragment: an origin is only a scheme, a host and a port.", s)
	}
	hostport, path, _ := strings.Cut(rest, "/")
	if path != "" {
		return "", problem("%q has a path: an origin is only a scheme, a host and a port (a trailing / is fine).", s)
	}
	if strings.Contains(hostport, "@") {
		return "", problem("%q has a user name or password: an origin is only a scheme, a host and a port.", s)
	}
	return build(scheme, hostport)
}

// build returns the canonical origin of a scheme and a host[:port].
func build(scheme, hostport string) (string, error) {
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", problem("The scheme must be http or https, not %q.", scheme)
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		if port == "" {
			return "", problem("The port is empty.")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" || port[0] == '0' {
			return "", problem("%q is not a port number from 1 to 65535.", port)
		}
		port = strconv.Itoa(n)
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		}
	}
	if host == "" {
		return "", problem("The host is missing.")
	}
	if strings.HasPrefix(host, "[") {
		ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if !strings.HasSuffix(host, "]") || ip == nil || ip.To4() != nil {
			return "", problem("%q is not an IPv6 address in brackets.", host)
		}
		host = "[" + ip.String() + "]"
	} else {
		ascii, err := profile.ToASCII(strings.TrimSuffix(host, "."))
		if err == nil { // the result must be stable: valid punycode maps to itself
			var again string
			if again, err = profile.ToASCII(ascii); err == nil && again != ascii {
				err = errors.New("unstable")
			}
		}
		if err != nil || !hostName(ascii) {
			return "", problem("%q is not a valid host name.", host)
		}
		host = strings.ToLower(ascii)
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// hostName reports whether s is a host name of letters, digits, '-', '_'
// and '.', with no empty label.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-' || label[i] == '_') {
				return false
			}
		}
	}
	return true
}

// Domains normalizes a public token's list of origins and removes
// duplicates, keeping the first spelling's position. The error is a
// sentence a person can read, naming the entry that is wrong by its
// position ("Domain 2: …") when there are several.
func Domains(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	seen := map[string]bool{}
	for i, d := range list {
		o, err := Normalize(d)
		if err != nil {
			if len(list) == 1 {
				return nil, err
			}
			return nil, &Problem{msg: fmt.Sprintf("Domain %d: %s", i+1, err), err: err}
		}
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// FromHeader returns the origin of a request's Origin header value, in
// canonical form, or "" when there is none or it is "null" (sandboxed
// frames, file: pages), which matches no domain.
func FromHeader(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || v == "null" || len(v) > maxLen {
		return ""
	}
	o, err := Normalize(v)
	if err != nil {
		return ""
	}
	return o
}

// FromURL returns the origin of a full URL such as a Referer: its scheme,
// host and port, whatever path, query or fragment follow; "" when it is not
// an http(s) URL.
func FromURL(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 8192 {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ""
	}
	o, err := build(u.Scheme, u.Host)
	if err != nil {
		return ""
	}
	return o
}
