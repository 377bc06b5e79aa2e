package server

import (
	"net/http"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// handleCreateOrg: POST /api/v1/orgs {slug,name} → 201 org.
func (s *Server) handleCreateOrg(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	org, err := s.app.CreateOrg(r.Context(), ac, req.Slug, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrg(org))
	return nil
}

// handleGetOrg: GET /api/v1/orgs/{org} → org.
func (s *Server) handleGetOrg(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	org, err := s.app.GetOrg(r.Context(), ac, r.PathValue("org"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrg(org))
	return nil
}

// handleUpdateOrg: PATCH /api/v1/orgs/{org} {name?,settings?} → org.
func (s *Server) handleUpdateOrg(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Name     *string `json:"name"`
		Settings *struct {
			TokenReuseFloorSeconds *int `json:"token_reuse_floor_seconds"`
		} `json:"settings"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	upd := tollgate.OrgUpdate{Name: req.Name}
	if req.Settings != nil {
		upd.TokenReuseFloorSeconds = req.Settings.TokenReuseFloorSeconds
	}
	org, err := s.app.UpdateOrg(r.Context(), ac, r.PathValue("org"), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrg(org))
	return nil
}
