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
			TokenReuseFloorSeconds     *int  `json:"token_reuse_floor_seconds"`
			MaxTokenTTLSeconds         *int  `json:"max_token_ttl_seconds"`
			APITokenMaxLifetimeSeconds *int  `json:"api_token_max_lifetime_seconds"`
			PublicTokensAllowed        *bool `json:"public_tokens_allowed"`
			UserTokenImportAllowed     *bool `json:"user_token_import_allowed"`
		} `json:"settings"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	upd := tollgate.OrgUpdate{Name: req.Name}
	if req.Settings != nil {
		st := req.Settings
		upd.TokenReuseFloorSeconds, upd.MaxTokenTTLSeconds, upd.APITokenMaxLifetimeSeconds = st.TokenReuseFloorSeconds, st.MaxTokenTTLSeconds, st.APITokenMaxLifetimeSeconds
		upd.PublicTokensAllowed, upd.UserTokenImportAllowed = st.PublicTokensAllowed, st.UserTokenImportAllowed
	}
	org, err := s.app.UpdateOrg(r.Context(), ac, r.PathValue("org"), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrg(org))
	return nil
}

// handlePolicyViolations: GET /api/v1/orgs/{org}/policy-violations → the
// credentials that break the org's current policy (P1), per kind, with a
// count and the first of them.
func (s *Server) handlePolicyViolations(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	vs, err := s.app.PolicyViolations(r.Context(), ac, r.PathValue("org"))
	if err != nil {
		return err
	}
	out := struct {
		Violations []policyViolationJSON `json:"violations"`
	}{Violations: []policyViolationJSON{}}
	for i := range vs {
		out.Violations = append(out.Violations, toPolicyViolation(&vs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
