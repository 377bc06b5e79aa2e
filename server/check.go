package server

import (
	"net/http"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/origin"
)

// Identity headers /check answers with (A10). Gateways copy them to the
// upstream request (nginx auth_request_set, Traefik authResponseHeaders,
// Envoy allowed_upstream_headers, Caddy copy_headers).
const (
	HeaderOrg            = "X-Tollgate-Org"
	HeaderSubject        = "X-Tollgate-Subject"
	HeaderSubjectType    = "X-Tollgate-Subject-Type"
	HeaderRole           = "X-Tollgate-Role"
	HeaderCredential     = "X-Tollgate-Credential"
	HeaderCredentialKind = "X-Tollgate-Credential-Kind"
)

// identityHeaders are the headers a 200 from /check carries, in the order
// handleCheck fills them.
var identityHeaders = [...]string{HeaderOrg, HeaderSubject, HeaderSubjectType, HeaderRole, HeaderCredential, HeaderCredentialKind}

// requestOrigin is the web origin of the request being checked: the Origin
// header, else the Referer's origin, else, from a trusted gateway only,
// X-Forwarded-Origin or X-Original-Origin. "" when there is none (an Origin
// of "null" counts as none: it matches no listed domain).
func (s *Server) requestOrigin(r *http.Request) string {
	if v, ok := r.Header["Origin"]; ok && len(v) > 0 {
		return origin.FromHeader(v[0])
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return origin.FromURL(ref)
	}
	if s.trusted(r) {
		for _, h := range []string{"X-Forwarded-Origin", "X-Original-Origin"} {
			if v := r.Header.Get(h); v != "" {
				return origin.FromHeader(v)
			}
		}
	}
	return ""
}

// handleCheck: any method on /check, for gateways (A10). 200 with the
// identity headers; 401 with WWW-Authenticate for a missing or unusable
// credential; 403 for a public token from an origin it does not list. A
// CORS preflight (which carries no token) passes when some public token
// lists its origin, with the CORS headers the browser needs.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Cache-Control"] = noStore
	req := s.request(r, "check")
	o := req.Origin
	method := r.Header.Get("X-Forwarded-Method")
	if method == "" {
		method = r.Header.Get("X-Original-Method")
	}
	if method == "" {
		method = r.Method
	}
	if strings.EqualFold(method, http.MethodOptions) && r.Header.Get("Access-Control-Request-Method") != "" && r.Header.Get("Authorization") == "" {
		s.checkPreflight(w, r, o)
		return
	}
	ac, err := s.authn.Bearer(r.Context(), req)
	if err != nil {
		s.writeCheckError(w, r, err)
		return
	}
	noteCaller(r, ac)
	c := ac.Credential
	// The identity headers' values share one array: one allocation, not
	// one a header (Header.Set makes a slice each). The names are in
	// canonical form already.
	vals := [...]string{c.OrgID, ac.ID, string(ac.Type), string(c.Role), c.ID, string(c.Kind)}
	for i, name := range identityHeaders {
		h[name] = vals[i : i+1 : i+1]
	}
	if c.Public {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
	s.metrics.check.WithLabelValues("ok").Inc()
	w.WriteHeader(http.StatusOK)
}

// preflight answers a CORS preflight from origin o: when some public token
// lists o, it sets the CORS headers (the exact origin, never *) and
// reports true; the caller then writes 200, or its own refusal otherwise.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, o string) (bool, error) {
	w.Header().Add("Vary", "Origin")
	req := s.request(r, "preflight")
	req.Origin = o
	ok, err := s.authn.Preflight(r.Context(), req)
	if err != nil || !ok {
		return false, err
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	allow := "Authorization, Content-Type"
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		allow = req
		if !strings.Contains(strings.ToLower(req), "authorization") {
			allow += ", Authorization"
		}
	}
	h.Set("Access-Control-Allow-Headers", allow)
	h.Set("Access-Control-Max-Age", "600")
	return true, nil
}

func (s *Server) checkPreflight(w http.ResponseWriter, r *http.Request, o string) {
	ok, err := s.preflight(w, r, o)
	switch {
	case err != nil:
		s.writeCheckError(w, r, err)
	case !ok:
		s.writeCheckError(w, r, tollgate.Errorf(tollgate.EForbidden, "no public token lists this origin"))
	default:
		s.metrics.check.WithLabelValues("preflight_ok").Inc()
		w.WriteHeader(http.StatusOK)
	}
}
