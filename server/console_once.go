package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// onceCookie carries what a "created" page shows, from the POST that made
// it to the one GET that shows it (POST–redirect–GET): reloading that page
// finds the cookie gone instead of creating a second token or account.
const onceCookie = "tollgate_once"

// shownOnce is what a created page shows once: a secret or token, with
// what the page says around it.
type shownOnce struct {
	Page, Title string
	Secret      *secretView `json:",omitempty"`
	NewToken    string      `json:",omitempty"`
	Hook        *webhookRow `json:",omitempty"`
	HookSecret  string      `json:",omitempty"`
}

// onceContext binds a sealed page to the browser's session, so that it
// opens for no other session.
func onceContext(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Value))
	return "once/" + hex.EncodeToString(sum[:])
}

// showOnce seals once into a short-lived cookie bound to the session and
// redirects to the page that shows it.
func (s *Server) showOnce(w http.ResponseWriter, r *http.Request, v *view, once shownOnce) (string, int, error) {
	b, err := json.Marshal(once)
	if err != nil {
		return "", 0, err
	}
	http.SetCookie(w, &http.Cookie{Name: onceCookie, Value: base64.RawURLEncoding.EncodeToString(s.app.SealValue(b, onceContext(r))),
		Path: "/orgs/", MaxAge: 120, HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/created", http.StatusSeeOther)
	return "", 0, nil
}

// handleCreatedPage: GET /orgs/{org}/created shows what the last create
// sealed, once, and forgets it; a reload says it was shown.
func (s *Server) handleCreatedPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := r.Cookie(onceCookie)
	if err != nil {
		return "", 0, errShownOnce
	}
	http.SetCookie(w, &http.Cookie{Name: onceCookie, Value: "", Path: "/orgs/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode})
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "", 0, errShownOnce
	}
	b, err := s.app.OpenValue(sealed, onceContext(r))
	if err != nil {
		return "", 0, errShownOnce
	}
	var once shownOnce
	if err := json.Unmarshal(b, &once); err != nil || pages[once.Page] == nil {
		return "", 0, errShownOnce
	}
	v.Title, v.Secret, v.NewToken = once.Title, once.Secret, once.NewToken
	v.Hooks.Hook, v.Hooks.Secret = once.Hook, once.HookSecret
	return once.Page, http.StatusOK, nil
}

var errShownOnce = tollgate.Errorf(tollgate.ENotFound, "This page was shown once and is gone, so that reloading it makes nothing twice. What you created is in its list; if you did not copy its secret, rotate it or make another.")
