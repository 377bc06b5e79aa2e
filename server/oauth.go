package server

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/oauth"
)

// maxOAuthBody caps the form body of the OAuth endpoints.
const maxOAuthBody = 16 << 10

// oauthForm reads an application/x-www-form-urlencoded body (RFC 6749
// §3.2). Parameters are taken from the body only: credentials in the URL
// end up in logs, so a query string carrying any is refused.
func oauthForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	// The media type as clients send it needs no parsing (ParseMediaType
	// allocates a map of its parameters).
	if ct := r.Header.Get("Content-Type"); ct != formType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formType {
			return nil, oauth.Fail(oauth.CodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
		}
	}
	if r.URL.RawQuery != "" {
		if q := r.URL.Query(); q.Has("client_secret") || q.Has("token") || q.Has("client_id") || q.Has("client_assertion") {
			return nil, oauth.Fail(oauth.CodeInvalidRequest, "parameters must be sent in the request body, never in the URL")
		}
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxOAuthBody), r.ContentLength)
	if err != nil {
		return nil, &tollgate.Error{Code: tollgate.ETooLarge, Message: "the body is too large", Err: oauth.CodeInvalidRequest}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauth.Fail(oauth.CodeInvalidRequest, "the body is not valid form encoding")
	}
	return form, plainValues(form)
}

// formType is the media type of the OAuth endpoints' bodies.
const formType = "application/x-www-form-urlencoded"

// readBody reads body to its end, into one buffer of the declared length
// when there is one within maxOAuthBody (io.ReadAll starts at 512 bytes
// and grows).
func readBody(body io.Reader, length int64) ([]byte, error) {
	if length <= 0 || length > maxOAuthBody {
		return io.ReadAll(body)
	}
	b := make([]byte, 0, length+1) // +1: room to see the end without growing
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		} else if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than declared: grow
		}
	}
}

// oauthHeaders are sent with every token, introspection and revocation
// answer: they carry credentials, which must never be cached.
func oauthHeaders(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"], h["Pragma"] = noStore, noCache
}

func isBasic(authorization string) bool {
	scheme, _, _ := strings.Cut(authorization, " ")
	return strings.EqualFold(scheme, "Basic")
}

// oauthFunc is an OAuth endpoint's handler: it gets the form and the
// client, already authenticated, and returns its error for oauthClient to
// render as RFC 6749 JSON.
type oauthFunc func(w http.ResponseWriter, r *http.Request, form url.Values, client app.Actor) error

// oauthClient adapts an oauthFunc: it reads the form and authenticates
// the client through the boundary before fn runs.
func (s *Server) oauthClient(endpoint string, fn oauthFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := oauthForm(w, r)
		if err == nil {
			err = s.withClient(w, r, endpoint, form, fn)
		}
		if err != nil {
			s.writeOAuthError(w, r, endpoint, err)
		}
	}
}

// withClient authenticates the client of an OAuth request whose form was
// read, then runs fn.
func (s *Server) withClient(w http.ResponseWriter, r *http.Request, endpoint string, form url.Values, fn oauthFunc) error {
	req := s.request(r, endpoint)
	req.Form = form
	client, err := s.authn.Client(r.Context(), req)
	if err != nil {
		return err
	}
	noteCaller(r, client)
	return fn(w, r, form, client)
}

// handleTokenEndpoint: POST /oauth2/token. The device grant's client is
// public (the tollgate CLI, which has no secret): its requests go to
// handleDeviceToken without client authentication; every other grant's
// client authenticates first (handleToken).
func (s *Server) handleTokenEndpoint(w http.ResponseWriter, r *http.Request) {
	form, err := oauthForm(w, r)
	if err == nil {
		if grant := form["grant_type"]; len(grant) == 1 && grant[0] == oauth.GrantDeviceCode {
			err = s.handleDeviceToken(w, r, form)
		} else {
			err = s.withClient(w, r, "token", form, s.handleToken)
		}
	}
	if err != nil {
		s.writeOAuthError(w, r, "token", err)
	}
}

// handleToken: POST /oauth2/token: client credentials (RFC 6749 §4.4),
// token exchange (RFC 8693) and the JWT bearer grant (RFC 7523 §2.1); the
// boundary authenticated the client by its secret, its assertion or its
// federated token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, form url.Values, client app.Actor) error {
	req, err := oauth.ParseTokenRequest(form)
	if err != nil {
		return err
	}
	resp, err := s.app.IssueToken(r.Context(), client, req.Scope)
	if err != nil {
		return err
	}
	if req.GrantType == oauth.GrantTokenExchange {
		resp.IssuedTokenType = oauth.TokenTypeAccessToken
	}
	oauthHeaders(w)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// subject resolves the token parameter of introspection and revocation.
func (s *Server) subject(r *http.Request, door string, form url.Values) (*app.Credential, error) {
	token, err := oauth.ParseTokenParam(form)
	if err != nil {
		return nil, err
	}
	return s.authn.Inspect(r.Context(), s.request(r, door), token)
}

// handleIntrospect: POST /oauth2/introspect (RFC 7662).
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request, form url.Values, client app.Actor) error {
	subject, err := s.subject(r, "introspect", form)
	if err != nil {
		return err
	}
	res, err := s.app.Introspect(r.Context(), client, subject)
	if err != nil {
		return err
	}
	if res.Active {
		s.metrics.introspection.WithLabelValues("active").Inc()
	} else {
		s.metrics.introspection.WithLabelValues("inactive").Inc()
	}
	oauthHeaders(w)
	writeJSON(w, http.StatusOK, res)
	return nil
}

// handleRevoke: POST /oauth2/revoke (RFC 7009): 200 with an empty body.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, form url.Values, client app.Actor) error {
	subject, err := s.subject(r, "revoke", form)
	if err != nil {
		return err
	}
	if err := s.app.RevokeAccessToken(r.Context(), client, subject); err != nil {
		return err
	}
	oauthHeaders(w)
	w.WriteHeader(http.StatusOK)
	return nil
}

// handleJWKS: GET /oauth2/jwks (RFC 7517), cacheable for a minute.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	doc, err := s.keys.JWKS(r.Context())
	if err != nil {
		s.writeOAuthError(w, r, "jwks", err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(doc)
}

// handleMetadata: GET /.well-known/oauth-authorization-server (RFC 8414),
// and the same document at /.well-known/openid-configuration for clients
// and meshes that look only there.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, oauth.NewMetadata(s.cfg.Issuer))
}
