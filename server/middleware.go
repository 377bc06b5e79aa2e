package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
)

// apiFunc is an admin API handler: it gets the caller already resolved and
// returns its error for api to render.
type apiFunc func(w http.ResponseWriter, r *http.Request, ac app.Actor) error

// api adapts an apiFunc for a route that needs a caller: the caller the
// caller middleware resolved, which must not be anonymous. A returned
// error becomes a problem+json response.
func (s *Server) api(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ac, err := s.callerOf(r)
		if err == nil && ac.Type == tollgate.PrincipalAnonymous {
			err = tollgate.Errorf(tollgate.EUnauthenticated, "sign in first: POST /api/v1/session")
		}
		if err == nil {
			err = fn(w, r, ac)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// public adapts an apiFunc for a route anyone may call (sign-in, accepting
// an invitation): it gets the anonymous actor of the request's address,
// whatever credentials came with it.
func (s *Server) public(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r, s.anonymous(r)); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// sessionCookie names the cookie that carries the session token.
const sessionCookie = "tollgate_session"

type ctxKey int

const (
	keyCaller ctxKey = iota
	keyRequestInfo
)

// requestInfo is what the access log, the trace and the metrics say of a
// request besides its method, path and status: its ID, who called, once
// the boundary says, and the route pattern that served it.
type requestInfo struct {
	id     [1]string // X-Request-Id's value, which the response header shares
	caller string    // "<type>:<id>", "" until resolved
	route  string    // the pattern without its method, "" until routed
	// ip and trusted are Server.client's answer, read once (client is
	// set).
	ip      string
	trusted bool
	client  bool
}

// noteCaller records who called, for the access log.
func noteCaller(r *http.Request, ac app.Actor) {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok && ac.Type != tollgate.PrincipalAnonymous {
		info.caller = string(ac.Type) + ":" + ac.ID
	}
}

// requestIDOf is the request's ID (X-Request-Id), "" outside observe.
func requestIDOf(r *http.Request) string {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
		return info.id[0]
	}
	return ""
}

// validRequestID accepts what a gateway or client sends as X-Request-Id:
// 1 to 128 characters of letters, digits and - _ . : (so that it cannot
// forge log lines).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// newRequestID is 16 random bytes in hex.
func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// resolved is the caller of a request, or why it has none.
type resolved struct {
	ac  app.Actor
	err error
}

// request reads what r presents to the authentication boundary at door.
// The console takes its session cookie only: an Authorization header
// authenticates nothing there.
func (s *Server) request(r *http.Request, door string) authn.Request {
	ip, trusted := s.client(r)
	req := authn.Request{Door: door, Origin: s.requestOrigin(r), IP: ip, UserAgent: r.UserAgent(), Header: r.Header, Trusted: trusted}
	if door != "console" {
		req.Authorization = r.Header.Get("Authorization")
	}
	if door == "api" || door == "console" { // only they take sessions
		if c, err := r.Cookie(sessionCookie); err == nil {
			req.Session = c.Value
		}
	}
	req.Method, req.URI = s.target(r, door, trusted)
	return req
}

// The families of headers a gateway forwards the original request's
// method and URI in (Config.ForwardedTarget).
const (
	TargetXForwarded = "x-forwarded"
	TargetXOriginal  = "x-original"
)

// targetHeaders are each family's headers: the ones read, and the ones of
// the other family, whose presence means the gateway did not set what it
// forwards (it passed a client's header through).
var targetHeaders = map[string]struct{ read, other []string }{
	TargetXForwarded: {[]string{"X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Uri"},
		[]string{"X-Original-Method", "X-Original-Url", "X-Original-Uri"}},
	TargetXOriginal: {[]string{"X-Original-Method", "X-Original-Url"}, []string{"X-Forwarded-Method", "X-Forwarded-Uri"}},
}

// target is the method and absolute URI that a DPoP proof presented with
// the request must name (K3). At /check and introspection it is the
// original request a gateway forwards, read from the one family of headers
// --forwarded-target names, and only from a trusted proxy: "" when the
// peer is not trusted, a header is missing or given twice, or the other
// family is present too (a gateway that set one family passes a client's
// headers of the other through, so that a client could name any URI).
// Elsewhere it is the request itself at the issuer's URL.
func (s *Server) target(r *http.Request, door string, trusted bool) (method, uri string) {
	if door != "check" && door != "introspect" {
		return r.Method, s.cfg.Issuer + r.URL.EscapedPath()
	}
	if !trusted {
		return "", ""
	}
	h := r.Header
	family := targetHeaders[s.cfg.ForwardedTarget]
	for _, name := range family.other {
		if _, ok := h[name]; ok {
			return "", ""
		}
	}
	vals := make([]string, len(family.read))
	for i, name := range family.read {
		v := h[name]
		if len(v) != 1 || v[0] == "" {
			return "", ""
		}
		vals[i] = v[0]
	}
	if s.cfg.ForwardedTarget == TargetXOriginal {
		if !strings.HasPrefix(vals[1], "https://") && !strings.HasPrefix(vals[1], "http://") {
			return "", ""
		}
		return vals[0], vals[1]
	}
	proto, host, path := vals[1], vals[2], vals[3]
	if (proto != "http" && proto != "https") || !strings.HasPrefix(path, "/") || strings.ContainsAny(host, "/@?#") {
		return "", ""
	}
	return vals[0], proto + "://" + host + path
}

// caller resolves the caller of every request below it once, through the
// authentication boundary, and keeps it for the handlers (callerOf). On
// the admin API, a public token admitted from its origin gets the CORS
// headers a browser needs to read the answer, and CORS preflights (which
// carry no token) pass for origins that some public token lists.
func (s *Server) caller(door string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if door == "api" && r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" && r.Header.Get("Authorization") == "" {
			ok, err := s.preflight(w, r, s.requestOrigin(r))
			switch {
			case err != nil:
				s.writeError(w, r, err)
			case !ok:
				writeProblem(w, http.StatusForbidden, tollgate.EForbidden, "no public token lists this origin", "")
			default:
				w.WriteHeader(http.StatusNoContent)
			}
			return
		}
		req := s.request(r, door)
		ac, err := s.authn.Caller(r.Context(), req)
		if err == nil && ac.Credential != nil && ac.Credential.Public {
			w.Header().Set("Access-Control-Allow-Origin", req.Origin) // the exact origin, never *
			w.Header().Add("Vary", "Origin")
		}
		if err == nil {
			noteCaller(r, ac)
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyCaller, &resolved{ac: ac, err: err})))
	})
}

// callerOf returns the caller the caller middleware resolved.
func (s *Server) callerOf(r *http.Request) (app.Actor, error) {
	if res, ok := r.Context().Value(keyCaller).(*resolved); ok {
		return res.ac, res.err
	}
	return s.anonymous(r), nil
}

// apiHeaders sets headers every API response carries: nothing is cached,
// nothing is sniffed, framed or given a Referer.
func apiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Cache-Control"] = noStore
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// csrf refuses cross-origin unsafe requests from browsers (Sec-Fetch-Site,
// then Origin), which is what makes cookie authentication safe. Requests
// without those headers (non-browser clients) pass, and so do requests
// that the Authorization header itself authenticated (the caller
// middleware resolved a bearer credential): a browser never adds a Bearer
// token on its own. Any other Authorization header (Basic or Negotiate,
// which browsers add by themselves behind some proxies) authenticates
// nothing and skips nothing.
func (s *Server) csrf(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusForbidden, tollgate.EForbidden, "cross-origin request refused", "")
	}))
	protected := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ac, err := s.callerOf(r); err == nil && ac.Credential != nil {
			h.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// problemOnNoRoute answers requests that match no route (404) or match a
// path with another method (405, with Allow) in problem+json like every
// other API error.
func (s *Server) problemOnNoRoute(mux *http.ServeMux) http.Handler {
	serve := routed(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			serve.ServeHTTP(w, r)
			return
		}
		if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
			info.route = "unmatched"
		}
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeProblem(w, http.StatusMethodNotAllowed, tollgate.EInvalid, "method "+r.Method+" is not allowed here", "")
			return
		}
		writeProblem(w, http.StatusNotFound, tollgate.ENotFound, "no such endpoint", "")
	})
}

// statusRecorder captures the status and headers a handler writes.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(status int)      { r.status = status }

// closeWhileDraining ends each connection after its answer while the
// process drains (Config.Draining): clients move to other replicas one
// answered request at a time, and no connection is closed between two of
// its requests, where a client may be sending the next one (which would
// fail with EOF: a POST is not retried).
func (s *Server) closeWhileDraining(h http.Handler) http.Handler {
	if s.cfg.Draining == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Draining() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// hsts tells browsers to use only https for this host, for two years
// (RFC 6797), on every answer when the issuer is https.
func (s *Server) hsts(h http.Handler) http.Handler {
	if !s.secureCookies() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection.
func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeProblem(w, http.StatusInternalServerError, tollgate.EInternal, "Internal error.", "")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Draining != nil && s.cfg.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining", "detail": "shutting down"})
		return
	}
	if err := s.app.Ready(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}

// anonymous returns the anonymous actor of the request's address.
func (s *Server) anonymous(r *http.Request) app.Actor {
	return app.Anonymous(s.clientIPOf(r), r.UserAgent())
}
