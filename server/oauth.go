package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate/oauth"
)

// maxOAuthBody caps the form body of the OAuth endpoints.
const maxOAuthBody = 16 << 10

// oauthForm reads an application/x-www-form-urlencoded body (RFC 6749
// §3.2). Parameters are taken from the body only: credentials in the URL
// end up in logs, so a query string carrying any is refused.
func oauthForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body must be application/x-www-form-urlencoded"}
	}
	if q := r.URL.Query(); q.Has("client_secret") || q.Has("token") || q.Has("client_id") {
		return nil, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "parameters must be sent in the request body, never in the URL"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOAuthBody))
	if err != nil {
		return nil, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusRequestEntityTooLarge, Description: "the body is too large"}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest, Description: "the body is not valid form encoding"}
	}
	return form, nil
}

// oauthHeaders are sent with every token, introspection and revocation
// answer: they carry credentials, which must never be cached.
func oauthHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeOAuthError renders err as RFC 6749 §5.2 JSON. Errors that are not
// *oauth.Error are logged and answered as server_error.
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		oe = &oauth.Error{Code: oauth.ErrServerError, Status: http.StatusInternalServerError, Description: "internal error"}
	}
	s.oauthMetrics.Error(endpoint, oe.Code)
	if oe.Status == http.StatusUnauthorized && oe.Basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="tollgate", charset="UTF-8"`)
	}
	oauthHeaders(w)
	writeJSON(w, oe.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{oe.Code, oe.Description})
}

func caller(r *http.Request) oauth.Caller {
	return oauth.Caller{IP: clientIP(r), UserAgent: r.UserAgent()}
}

// handleToken: POST /oauth2/token (RFC 6749 §4.4).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, err := oauthForm(w, r)
	if err != nil {
		s.writeOAuthError(w, r, "token", err)
		return
	}
	req, oerr := oauth.ParseTokenRequest(r.Header.Get("Authorization"), form)
	if oerr != nil {
		s.writeOAuthError(w, r, "token", oerr)
		return
	}
	resp, err := s.oauth.Token(r.Context(), req, caller(r))
	if err != nil {
		s.writeOAuthError(w, r, "token", err)
		return
	}
	oauthHeaders(w)
	writeJSON(w, http.StatusOK, resp)
}

// clientAndToken reads the caller's credentials and the token parameter
// of introspection and revocation requests.
func clientAndToken(w http.ResponseWriter, r *http.Request) (oauth.ClientCredentials, string, error) {
	form, err := oauthForm(w, r)
	if err != nil {
		return oauth.ClientCredentials{}, "", err
	}
	creds, oerr := oauth.ParseClientCredentials(r.Header.Get("Authorization"), form)
	if oerr != nil {
		return creds, "", oerr
	}
	if len(form["token"]) != 1 || strings.TrimSpace(form.Get("token")) == "" {
		return creds, "", &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest, Description: "send exactly one token parameter"}
	}
	return creds, form.Get("token"), nil
}

// handleIntrospect: POST /oauth2/introspect (RFC 7662).
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	creds, token, err := clientAndToken(w, r)
	if err != nil {
		s.writeOAuthError(w, r, "introspect", err)
		return
	}
	res, err := s.oauth.Introspect(r.Context(), creds, token)
	if err != nil {
		s.writeOAuthError(w, r, "introspect", err)
		return
	}
	oauthHeaders(w)
	writeJSON(w, http.StatusOK, res)
}

// handleRevoke: POST /oauth2/revoke (RFC 7009): 200 with an empty body.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	creds, token, err := clientAndToken(w, r)
	if err != nil {
		s.writeOAuthError(w, r, "revoke", err)
		return
	}
	if err := s.oauth.Revoke(r.Context(), creds, token, caller(r)); err != nil {
		s.writeOAuthError(w, r, "revoke", err)
		return
	}
	oauthHeaders(w)
	w.WriteHeader(http.StatusOK)
}

// handleJWKS: GET /oauth2/jwks (RFC 7517), cacheable for a minute.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	doc, err := s.oauth.JWKS(r.Context())
	if err != nil {
		s.writeOAuthError(w, r, "jwks", err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(doc)
}

// handleMetadata: GET /.well-known/oauth-authorization-server (RFC 8414).
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, s.oauth.Metadata())
}
