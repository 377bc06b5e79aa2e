package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// peer is the address of the connection's other end.
func peer(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// isTrusted reports whether a is one of the trusted proxies.
func (s *Server) isTrusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// trusted reports whether the request comes from a trusted proxy.
func (s *Server) trusted(r *http.Request) bool {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok && info.client {
		return info.trusted
	}
	a, ok := peer(r)
	return ok && s.isTrusted(a)
}

// clientIPOf is the address a request came from (R4), the one the limits,
// the audit log and the access log use: the peer's, unless the peer is a
// trusted proxy; then the hops the proxies recorded in the one forwarding
// header the operator chose (X-Forwarded-For, or Forwarded's for=) are read
// from the nearest back, and the first one that is not itself a trusted
// proxy is the client. The other header is ignored: a proxy that sets one
// passes the other on as the client sent it. A hop that is not an address
// ("unknown", an obfuscated name, garbage) ends the walk at the last
// proxy. Headers from an untrusted peer are ignored: anyone can send them.
func (s *Server) clientIPOf(r *http.Request) string {
	ip, _ := s.client(r)
	return ip
}

// client returns clientIPOf's address and whether the peer is a trusted
// proxy, reading the peer's address once. Below observe, which reads them
// first, they are its request info's: the limits, the boundary, the span
// and the access log ask for them several times a request.
func (s *Server) client(r *http.Request) (ip string, trusted bool) {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok && info.client {
		return info.ip, info.trusted
	}
	return s.readClient(r)
}

// readClient is client without the request info.
func (s *Server) readClient(r *http.Request) (ip string, trusted bool) {
	a, ok := peer(r)
	if !ok {
		return r.RemoteAddr, false
	}
	if !s.isTrusted(a) {
		return a.String(), false
	}
	hops := s.forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		h, ok := parseHop(hops[i])
		if !ok {
			break
		}
		a = h
		if !s.isTrusted(h) {
			break
		}
	}
	return a.String(), true
}

// Forwarding headers a trusted proxy may record the client in.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// forwardedFor returns the client-to-proxy chain of addresses from the
// configured header, every line in order: the entries of X-Forwarded-For,
// or the for= parameters of Forwarded (RFC 7239).
func (s *Server) forwardedFor(h http.Header) []string {
	var hops []string
	if s.cfg.ForwardedHeader == HeaderForwarded {
		for _, line := range h.Values("Forwarded") {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, strings.Trim(v, `"`))
					}
				}
			}
		}
		return hops
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads one recorded address: "192.0.2.1", "192.0.2.1:4711",
// "2001:db8::1", "[2001:db8::1]:4711".
func parseHop(v string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		if a, err := netip.ParseAddr(v[1 : len(v)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
