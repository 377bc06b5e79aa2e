package server

import (
	"context"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/oauth"
)

// apiFunc is a handler that returns its error for api to render.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// api adapts an apiFunc: a returned error becomes a problem+json response.
func (s *Server) api(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// sessionCookie names the cookie that carries the session token.
const sessionCookie = "tollgate_session"

// bearerDecision is the outcome of checking a request's bearer credential,
// made once per request by the bearer middleware.
type bearerDecision struct {
	d   *oauth.Decision
	err error
}

type bearerKey struct{}

// bearer checks an "Authorization: Bearer" credential once, as /check
// would, and keeps the outcome for actor. For a public token admitted from
// its origin it adds the CORS headers a browser needs to read the answer.
// It also answers CORS preflights (which carry no token) for origins that
// some public token lists.
func (s *Server) bearer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" && r.Header.Get("Authorization") == "" {
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
		authz := r.Header.Get("Authorization")
		if authz == "" {
			h.ServeHTTP(w, r)
			return
		}
		var bd bearerDecision
		if scheme, tok, ok := strings.Cut(authz, " "); !ok || !strings.EqualFold(scheme, "Bearer") {
			bd.err = tollgate.Errorf(tollgate.EUnauthenticated, "use Authorization: Bearer <API token or access token>, or sign in")
		} else {
			o := s.requestOrigin(r)
			bd.d, bd.err = s.oauth.Check(r.Context(), tok, o)
			if ce, refused := oauth.IsCheckError(bd.err); refused {
				code := tollgate.EUnauthenticated
				if ce.Status == http.StatusForbidden {
					code = tollgate.EForbidden
				}
				bd.err = tollgate.Errorf(code, "%s", ce.Reason)
			} else if bd.err == nil && bd.d.Public {
				w.Header().Set("Access-Control-Allow-Origin", o) // the exact origin, never *
				w.Header().Add("Vary", "Origin")
			}
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, &bd)))
	})
}

// actor returns who is calling: a machine presenting a bearer credential
// (admitted by the bearer middleware; it acts in its org with its role),
// else the user of a valid session cookie, else anonymous. A refused
// credential, or a cookie for an ended session, is an error, so that the
// client learns why.
func (s *Server) actor(r *http.Request) (app.Actor, error) {
	ip, ua := clientIP(r), r.UserAgent()
	if bd, ok := r.Context().Value(bearerKey{}).(*bearerDecision); ok {
		if bd.err != nil {
			return app.Actor{}, bd.err
		}
		d := bd.d
		return app.Actor{Type: d.SubjectType, ID: d.SubjectID, Name: d.SubjectName, IP: ip, UserAgent: ua,
			Credential: d.Credential, OrgID: d.OrgID, Role: tollgate.Role(d.Role)}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return app.Anonymous(ip, ua), nil
	}
	return s.app.Authenticate(r.Context(), c.Value, ip, ua)
}

// signedIn returns the caller, or EUnauthenticated for anonymous callers.
func (s *Server) signedIn(r *http.Request) (app.Actor, error) {
	ac, err := s.actor(r)
	if err != nil {
		return ac, err
	}
	if ac.Type == tollgate.PrincipalAnonymous {
		return ac, tollgate.Errorf(tollgate.EUnauthenticated, "sign in first: POST /api/v1/session")
	}
	return ac, nil
}

// clientIP is the address of the peer. (Trusted proxy headers arrive with
// the gateway integration.)
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// apiHeaders sets headers every API response carries: nothing is cached,
// nothing is sniffed, framed or given a Referer.
func apiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
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
// that authenticate with an Authorization header: a browser never adds one
// on its own, so they cannot be forged cross-site (and the session cookie
// is ignored for them).
func (s *Server) csrf(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusForbidden, tollgate.EForbidden, "cross-origin request refused", "")
	}))
	protected := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
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

// loggingWriter remembers the status for the request log.
type loggingWriter struct {
	http.ResponseWriter
	status int
}

func (w *loggingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path (never the query,
// which may carry an invitation token), status and duration.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &loggingWriter{ResponseWriter: w}
		h.ServeHTTP(lw, r)
		s.log.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path, "status", lw.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", clientIP(r))
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

// anonymous returns the anonymous actor for endpoints that need no session.
func (s *Server) anonymous(r *http.Request) app.Actor {
	return app.Anonymous(clientIP(r), r.UserAgent())
}
