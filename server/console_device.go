package server

import (
	"net/http"
	"net/url"

	"github.com/tollgate/tollgate"
)

// deviceView is the /device page: the code entry form (neither Pending nor
// Decided), the login waiting for a code (Pending), or its answer
// (Decided: "approved" or "denied").
type deviceView struct {
	UserCode, IP, UserAgent, Started, Until string
	Pending                                 bool
	Decided                                 string
}

// sessionRow is a row of the sessions page.
type sessionRow struct {
	ID, Kind, IP, UserAgent, Created, LastSeen, Expires string
	Current                                             bool
}

const consoleTime = "2 Jan 2006 15:04 MST"

// signInFirst sends a browser that is not signed in to sign in, coming
// back to the whole URL (query included: /device?user_code=…).
func signInFirst(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// handleDevicePage: GET /device[?user_code=…], where a person enters the
// code `tollgate login` shows. The link's code only fills the form: the
// person still confirms it, so that a link alone approves nothing.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	_, v, err := s.signedInView(r)
	if tollgate.ErrorCode(err) == tollgate.EUnauthenticated {
		signInFirst(w, r)
		return
	} else if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	v.Title = "Sign in at the command line"
	v.Device = &deviceView{UserCode: r.URL.Query().Get("user_code")}
	s.render(w, r, http.StatusOK, "device", v)
}

// handleDeviceForm: POST /device {user_code, action}: no action looks the
// code up and shows who asks; approve or deny answers it. Wrong codes are
// limited per person and address (Limits.UserCode).
func (s *Server) handleDeviceForm(w http.ResponseWriter, r *http.Request) {
	ac, v, err := s.signedInView(r)
	if err == nil {
		err = s.parseForm(w, r)
	}
	if tollgate.ErrorCode(err) == tollgate.EUnauthenticated {
		signInFirst(w, r)
		return
	} else if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	v.Title = "Sign in at the command line"
	code, action := r.PostForm.Get("user_code"), r.PostForm.Get("action")
	v.Device = &deviceView{UserCode: code}
	var d *tollgate.DeviceAuthorization
	err = s.authn.UserCode(r.Context(), s.request(r, "console"), ac, func() error {
		var err error
		switch action {
		case "":
			d, err = s.app.PendingDevice(r.Context(), ac, code)
		case "approve", "deny":
			d, err = s.app.DecideDevice(r.Context(), ac, code, action == "approve")
		default:
			err = tollgate.Invalidf("action", "action must be approve or deny")
		}
		return err
	})
	if err != nil {
		s.deviceError(w, r, v, err)
		return
	}
	v.Device.UserCode = tollgate.FormatUserCode(code)
	if action == "" {
		v.Device.Pending, v.Device.IP, v.Device.UserAgent = true, d.IP, d.UserAgent
		v.Device.Started = d.CreatedAt.Format(consoleTime)
		v.Device.Until = d.CreatedAt.Add(s.cfg.SessionMax).Format("2 Jan 2006")
	} else {
		v.Device.Decided = string(d.Status)
	}
	s.render(w, r, http.StatusOK, "device", v)
}

// deviceError shows a refused code on the entry form: next to the field
// when it cannot be a code, above it otherwise (with Retry-After when
// limited).
func (s *Server) deviceError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	code := tollgate.ErrorCode(err)
	switch code {
	case tollgate.EInvalid, tollgate.ENotFound, tollgate.ERateLimited:
	default:
		s.consoleError(w, r, v, err)
		return
	}
	if f := tollgate.ErrorField(err); f == "user_code" {
		v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
	} else {
		v.Error = tollgate.ErrorMessage(err)
	}
	s.fault(r, err).headers(w)
	s.render(w, r, statusOf[code], "device", v)
}

// sessionNotices are the sessions page's notices.
var sessionNotices = map[string]string{"revoked": "The session was revoked."}

// handleSessionsPage: GET /account/sessions, the signed-in person's
// sessions with a Revoke button each.
func (s *Server) handleSessionsPage(w http.ResponseWriter, r *http.Request) {
	ac, v, err := s.signedInView(r)
	var list []tollgate.Session
	if err == nil {
		list, err = s.app.MySessions(r.Context(), ac)
	}
	if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	v.Title, v.Section = "Your sessions", "sessions"
	v.Notice = sessionNotices[r.URL.Query().Get("notice")]
	for _, x := range list {
		v.Sessions = append(v.Sessions, sessionRow{ID: x.ID, Kind: string(x.Kind), IP: x.IP, UserAgent: x.UserAgent,
			Created: x.CreatedAt.Format(consoleTime), LastSeen: x.LastSeenAt.Format(consoleTime), Expires: x.ExpiresAt.Format(consoleTime),
			Current: x.ID == ac.SessionID})
	}
	s.render(w, r, http.StatusOK, "sessions", v)
}

// handleRevokeSessionForm: POST /account/sessions/{id}/revoke. Revoking
// the session of this browser signs it out.
func (s *Server) handleRevokeSessionForm(w http.ResponseWriter, r *http.Request) {
	ac, v, err := s.signedInView(r)
	if err == nil {
		err = s.app.RevokeMySession(r.Context(), ac, r.PathValue("id"))
	}
	if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	if r.PathValue("id") == ac.SessionID {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/sessions?notice=revoked", http.StatusSeeOther)
}
