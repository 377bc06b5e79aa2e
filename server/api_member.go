package server

import (
	"net/http"
	"strconv"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// page reads limit and cursor from the query string.
func page(r *http.Request) (tollgate.Page, error) {
	p := tollgate.Page{Limit: tollgate.DefaultPageLimit, Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, tollgate.Invalidf("limit", "limit must be a whole number between 1 and %d", tollgate.MaxPageLimit)
		}
		p.Limit = n
	}
	return p, p.Validate()
}

// handleListMembers: GET /api/v1/orgs/{org}/members?q= → list of members.
func (s *Server) handleListMembers(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	members, next, err := s.app.ListMembers(r.Context(), ac, r.PathValue("org"), tollgate.MemberFilter{Query: r.URL.Query().Get("q")}, p)
	if err != nil {
		return err
	}
	items := make([]memberJSON, len(members))
	for i := range members {
		items[i] = toMember(&members[i])
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// handleInvite: POST /api/v1/orgs/{org}/invitations {email,role} → 201.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	res, err := s.app.Invite(r.Context(), ac, r.PathValue("org"), req.Email, tollgate.Role(req.Role))
	if err != nil {
		return err
	}
	inv := res.Invitation
	writeJSON(w, http.StatusCreated, invitationJSON{ID: inv.ID, Email: inv.Email, Role: string(inv.Role),
		Token: res.Token, AcceptURL: res.AcceptURL, ExpiresAt: inv.ExpiresAt})
	return nil
}

// handleChangeRole: PATCH /api/v1/orgs/{org}/members/{user_id} {role} → member.
func (s *Server) handleChangeRole(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Role *string `json:"role"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Role == nil {
		return tollgate.Invalidf("role", "role is required")
	}
	m, err := s.app.ChangeRole(r.Context(), ac, r.PathValue("org"), r.PathValue("user_id"), tollgate.Role(*req.Role))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMember(m))
	return nil
}

// handleRemoveMember: DELETE /api/v1/orgs/{org}/members/{user_id} → 204.
func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.RemoveMember(r.Context(), ac, r.PathValue("org"), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
