package server

import (
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
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
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	token, info, err := s.app.SignIn(r.Context(), s.anonymous(r), req.Email, req.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}

// handleSignOut: DELETE /api/v1/session → 204, the session ended.
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	ac, err := s.signedIn(r)
	if err != nil {
		return err
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
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	ac, err := s.signedIn(r)
	if err != nil {
		return err
	}
	info, err := s.app.Me(r.Context(), ac)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}

// handleAcceptInvitation: POST /api/v1/invitations/accept {token,name,password}
// → the session response and cookie.
func (s *Server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	token, info, err := s.app.AcceptInvitation(r.Context(), s.anonymous(r), req.Token, req.Name, req.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, toSession(info))
	return nil
}
