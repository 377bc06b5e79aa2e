package server

import (
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// tokenFields are the request fields create and import share.
type tokenFields struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Kind        string   `json:"kind"`
	Domains     []string `json:"domains"`
	Role        *string  `json:"role"`
	ExpiresAt   *string  `json:"expires_at"`
}

// parse returns the optional role and expiry.
func (f *tokenFields) parse() (*tollgate.Role, *time.Time, error) {
	var role *tollgate.Role
	if f.Role != nil {
		r := tollgate.Role(*f.Role)
		role = &r
	}
	if f.ExpiresAt == nil {
		return role, nil, nil
	}
	t, err := time.Parse(time.RFC3339, *f.ExpiresAt)
	if err != nil {
		return nil, nil, tollgate.Invalidf("expires_at", "expires_at must be an RFC 3339 time such as 2027-01-02T15:04:05Z")
	}
	return role, &t, nil
}

// handleListAPITokens: GET /api/v1/orgs/{org}/tokens?owner_id=&kind=&q=.
func (s *Server) handleListAPITokens(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := tollgate.APITokenFilter{OwnerID: q.Get("owner_id"), Kind: tollgate.TokenKind(q.Get("kind")), Query: q.Get("q")}
	toks, next, err := s.app.ListAPITokens(r.Context(), ac, r.PathValue("org"), f, p)
	if err != nil {
		return err
	}
	items := make([]apiTokenJSON, len(toks))
	for i := range toks {
		items[i] = toAPIToken(&toks[i])
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// handleCreateAPIToken: POST /api/v1/orgs/{org}/tokens → 201 with token,
// shown this once.
func (s *Server) handleCreateAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		tokenFields
		ServiceAccountID string `json:"service_account_id"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	role, expires, err := req.parse()
	if err != nil {
		return err
	}
	t, plain, err := s.app.CreateAPIToken(r.Context(), ac, r.PathValue("org"), app.APITokenInput{Name: req.Name, Description: req.Description,
		ServiceAccountID: req.ServiceAccountID, Kind: tollgate.TokenKind(req.Kind), Domains: req.Domains, Role: role, ExpiresAt: expires})
	if err != nil {
		return err
	}
	out := toAPIToken(t)
	out.Token = plain
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleImportAPIToken: POST /api/v1/orgs/{org}/tokens/import → 201.
func (s *Server) handleImportAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		tokenFields
		OwnerUserID string `json:"owner_user_id"`
		Token       string `json:"token"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	role, expires, err := req.parse()
	if err != nil {
		return err
	}
	t, err := s.app.ImportAPIToken(r.Context(), ac, r.PathValue("org"), app.ImportInput{Name: req.Name, Description: req.Description,
		OwnerUserID: req.OwnerUserID, Token: req.Token, Kind: tollgate.TokenKind(req.Kind), Domains: req.Domains, Role: role, ExpiresAt: expires})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAPIToken(t))
	return nil
}

// handleGetAPIToken: GET /api/v1/orgs/{org}/tokens/{id}.
func (s *Server) handleGetAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	t, err := s.app.GetAPIToken(r.Context(), ac, r.PathValue("org"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPIToken(t))
	return nil
}

// handleUpdateAPIToken: PATCH /api/v1/orgs/{org}/tokens/{id} {name?,description?,domains?}.
func (s *Server) handleUpdateAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Name        *string   `json:"name"`
		Description *string   `json:"description"`
		Domains     *[]string `json:"domains"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.app.UpdateAPIToken(r.Context(), ac, r.PathValue("org"), r.PathValue("id"),
		app.APITokenUpdate{Name: req.Name, Description: req.Description, Domains: req.Domains})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPIToken(t))
	return nil
}

// handleDeleteAPIToken: DELETE /api/v1/orgs/{org}/tokens/{id} → 204; the
// token is revoked.
func (s *Server) handleDeleteAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.DeleteAPIToken(r.Context(), ac, r.PathValue("org"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleReassignAPIToken: POST /api/v1/orgs/{org}/tokens/{id}/reassign
// {service_account_id} → token.
func (s *Server) handleReassignAPIToken(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		ServiceAccountID string `json:"service_account_id"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.app.ReassignAPIToken(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), req.ServiceAccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPIToken(t))
	return nil
}
