package server

import (
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// handleListServiceAccounts: GET /api/v1/orgs/{org}/service-accounts?q=.
func (s *Server) handleListServiceAccounts(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	sas, next, err := s.app.ListServiceAccounts(r.Context(), ac, r.PathValue("org"), tollgate.ServiceAccountFilter{Query: r.URL.Query().Get("q")}, p)
	if err != nil {
		return err
	}
	items := make([]serviceAccountJSON, len(sas))
	for i := range sas {
		items[i] = s.toServiceAccount(&sas[i])
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// handleCreateServiceAccount: POST /api/v1/orgs/{org}/service-accounts →
// 201 with client_secret, shown this once.
func (s *Server) handleCreateServiceAccount(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Name            string `json:"name"`
		Description     string `json:"description"`
		Role            string `json:"role"`
		TokenTTLSeconds *int   `json:"token_ttl_seconds"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.TokenTTLSeconds == nil {
		return tollgate.Invalidf("token_ttl_seconds", "token_ttl_seconds is required: how long tokens live, from 300 (5 minutes) to 2592000 (30 days); it cannot be changed later")
	}
	sa, secret, err := s.app.CreateServiceAccount(r.Context(), ac, r.PathValue("org"), app.ServiceAccountInput{
		Name: req.Name, Description: req.Description, Role: tollgate.Role(req.Role), TokenTTLSeconds: *req.TokenTTLSeconds})
	if err != nil {
		return err
	}
	out := s.toServiceAccount(sa)
	out.ClientSecret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleGetServiceAccount: GET /api/v1/orgs/{org}/service-accounts/{id}.
func (s *Server) handleGetServiceAccount(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	sa, err := s.app.GetServiceAccount(r.Context(), ac, r.PathValue("org"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toServiceAccount(sa))
	return nil
}

// handleUpdateServiceAccount: PATCH /api/v1/orgs/{org}/service-accounts/{id}
// {description?,role?,require_dpop?}; name and token_ttl_seconds are accepted only to be
// refused as immutable.
func (s *Server) handleUpdateServiceAccount(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Description     *string `json:"description"`
		Role            *string `json:"role"`
		Name            *string `json:"name"`
		TokenTTLSeconds *int    `json:"token_ttl_seconds"`
		RequireDPoP     *bool   `json:"require_dpop"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	upd := app.ServiceAccountUpdate{Description: req.Description, Name: req.Name, TokenTTLSeconds: req.TokenTTLSeconds, RequireDPoP: req.RequireDPoP}
	if req.Role != nil {
		role := tollgate.Role(*req.Role)
		upd.Role = &role
	}
	sa, err := s.app.UpdateServiceAccount(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toServiceAccount(sa))
	return nil
}

// handleSetServiceAccountStatus: POST …/service-accounts/{id}/disable or /enable.
func (s *Server) handleSetServiceAccountStatus(enabled bool) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
		sa, err := s.app.SetServiceAccountStatus(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), enabled)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.toServiceAccount(sa))
		return nil
	}
}

// handleRotateSecret: POST …/service-accounts/{id}/secrets
// {grace_period_seconds?} → 201 {client_id,client_secret,previous_secret_expires_at}.
func (s *Server) handleRotateSecret(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		GracePeriodSeconds int `json:"grace_period_seconds"`
	}
	if r.ContentLength != 0 {
		if err := s.decode(w, r, &req); err != nil {
			return err
		}
	}
	res, err := s.app.RotateSecret(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), time.Duration(req.GracePeriodSeconds)*time.Second)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		ClientID                string     `json:"client_id"`
		ClientSecret            string     `json:"client_secret"`
		PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	}{res.ServiceAccount.ID, res.ClientSecret, res.PreviousSecretExpiresAt})
	return nil
}

// handleDeleteServiceAccount: DELETE /api/v1/orgs/{org}/service-accounts/{id} → 204.
func (s *Server) handleDeleteServiceAccount(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.DeleteServiceAccount(r.Context(), ac, r.PathValue("org"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
