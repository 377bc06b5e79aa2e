package server

import (
	"net/http"
	"net/url"

	"github.com/tollgate/tollgate/oauth"
)

// handleDeviceAuthorization: POST /oauth2/device_authorization (RFC 8628
// §3.1, §3.2) → the device code, the user code and where to enter it.
// Only the tollgate CLI may ask (client_id tollgate-cli), and each
// address may start only so many (Limits.Device).
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		form, err := oauthForm(w, r)
		if err != nil {
			return err
		}
		clientID, err := oauth.ParseDeviceAuthorizationRequest(form)
		if err != nil {
			return err
		}
		ac, err := s.authn.DeviceStart(r.Context(), s.request(r, "device_authorization"))
		if err != nil {
			return err
		}
		resp, err := s.app.StartDeviceAuthorization(r.Context(), ac, clientID)
		if err != nil {
			return err
		}
		oauthHeaders(w)
		writeJSON(w, http.StatusOK, resp)
		return nil
	}()
	if err != nil {
		s.writeOAuthError(w, r, "device_authorization", err)
	}
}

// handleDeviceToken answers the device grant at the token endpoint (RFC
// 8628 §3.4): authorization_pending, slow_down, access_denied,
// expired_token, invalid_grant, or the CLI session's credential. The
// boundary admits the poll first (authn.DeviceCode).
func (s *Server) handleDeviceToken(w http.ResponseWriter, r *http.Request, form url.Values) error {
	req, err := oauth.ParseDeviceCodeRequest(form, r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	var resp *oauth.SessionToken
	err = s.authn.DeviceCode(r.Context(), s.request(r, "token"), req.ClientID, req.DeviceCode, func() error {
		var err error
		resp, err = s.app.RedeemDeviceCode(r.Context(), s.anonymous(r), req.ClientID, req.DeviceCode)
		return err
	})
	if err != nil {
		return err
	}
	oauthHeaders(w)
	writeJSON(w, http.StatusOK, resp)
	return nil
}
