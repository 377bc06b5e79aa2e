package server

import (
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  time.Now().Add(s.cfg.SessionMax),
		HttpOnly: true,
		Secure:   s.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
}

// handleSignIn: POST /api/v1/session {email,password} → session and cookie.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request, _ app.Actor) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	token, info, err := s.signIn(r, "api", req.Email, req.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}

// signIn checks an email and password at the boundary and starts a
// session: the API's and the console's sign-in.
func (s *Server) signIn(r *http.Request, door, email, password string) (string, *app.SessionInfo, error) {
	ac, err := s.authn.Password(r.Context(), s.request(r, door), email, password)
	var token string
	var info *app.SessionInfo
	if err == nil {
		token, info, err = s.app.StartSession(r.Context(), ac)
	}
	s.metrics.signIn.WithLabelValues(door, outcome(tollgate.Public(tollgate.ErrorCode(err)), err)).Inc()
	return token, info, err
}

// acceptInvitation resolves who accepts an invitation at the boundary
// (an existing user proves their password there) and accepts it: the
// API's and the console's.
func (s *Server) acceptInvitation(r *http.Request, door, token, name, password string) (string, *app.SessionInfo, error) {
	ac, err := s.authn.Invitee(r.Context(), s.request(r, door), token, password)
	if err != nil {
		return "", nil, err
	}
	return s.app.AcceptInvitation(r.Context(), ac, token, name, password)
}

// handleSignOut: DELETE /api/v1/session → 204, the session ended: the
// browser's (its cookie), or the CLI session whose tgc_ credential the
// request carries (`tollgate logout`).
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if ac.Via == app.ViaCLI {
		if err := s.app.RevokeMySession(r.Context(), ac, ac.SessionID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || !ac.Session() {
		return tollgate.Errorf(tollgate.EUnauthenticated, "there is no session to end: bearer credentials are revoked, not signed out")
	}
	if err := s.app.SignOut(r.Context(), c.Value); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleMe: GET /api/v1/me → the session response.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	info, err := s.app.Me(r.Context(), ac)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}

// handleAcceptInvitation: POST /api/v1/invitations/accept {token,name,password}
// → the session response and cookie.
func (s *Server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request, _ app.Actor) error {
	var req struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	token, info, err := s.acceptInvitation(r, "api", req.Token, req.Name, req.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}

// handleMySessions: GET /api/v1/me/sessions → the signed-in person's
// sessions, browsers and command lines, newest first.
func (s *Server) handleMySessions(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	list, err := s.app.MySessions(r.Context(), ac)
	if err != nil {
		return err
	}
	items := make([]userSessionJSON, len(list))
	for i := range list {
		items[i] = toUserSession(&list[i], ac.SessionID)
	}
	writeJSON(w, http.StatusOK, newList(items, "")) // a handful per person: one page
	return nil
}

// handleRevokeMySession: DELETE /api/v1/me/sessions/{id} → 204; the
// session ends at once.
func (s *Server) handleRevokeMySession(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.RevokeMySession(r.Context(), ac, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
