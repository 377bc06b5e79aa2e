package app

import (
	"context"
	"net/url"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/oauth"
)

// ViaCLI marks an actor who acts through a CLI session (`tollgate login`):
// their audit events say so.
const ViaCLI = "cli"

// DeviceCodeHash and userCodeHash are the keyed hashes the store keeps of
// a device authorization's codes (the boundary keys its poll limits by the
// first); a stolen database does not let anyone test user codes (34.6
// bits) offline.
func (a *App) DeviceCodeHash(code string) []byte { return a.cfg.Keyring.Hash("device_code:" + code) }
func (a *App) userCodeHash(code string) []byte   { return a.cfg.Keyring.Hash("user_code:" + code) }

// StartDeviceAuthorization begins the device grant (RFC 8628 §3.1) for
// clientID, which must be the tollgate CLI: it stores a pending
// authorization with fresh codes, hashed, and returns them with where the
// person enters the user code. ac is the anonymous caller, whose address
// and user agent the approving person is shown.
func (a *App) StartDeviceAuthorization(ctx context.Context, ac Actor, clientID string) (*oauth.DeviceAuthorization, error) {
	ctx, span := tracer.Start(ctx, "app.StartDeviceAuthorization")
	defer span.End()
	if clientID != tollgate.DeviceClientID {
		return nil, oauth.Fail(oauth.CodeInvalidClient, "unknown client: the device grant is for Tollgate's command line, client_id "+tollgate.DeviceClientID)
	}
	now := a.now()
	for range 3 {
		deviceCode := credential.NewCredential("tgd_")
		userCode := tollgate.NewUserCode()
		canonical, _ := tollgate.NormalizeUserCode(userCode)
		d := &tollgate.DeviceAuthorization{ID: tollgate.NewID(tollgate.PrefixDeviceAuthorization, now),
			DeviceCodeHash: a.DeviceCodeHash(deviceCode), UserCodeHash: a.userCodeHash(canonical), ClientID: clientID,
			Status: tollgate.DevicePending, IP: ac.IP, UserAgent: tollgate.PlainUserAgent(ac.UserAgent),
			Interval: tollgate.DevicePollInterval, CreatedAt: now, ExpiresAt: now.Add(tollgate.DeviceCodeLifetime)}
		err := a.store.CreateDeviceAuthorization(ctx, d)
		if tollgate.ErrorCode(err) == tollgate.EConflict {
			continue // a live user code drawn twice: draw again
		} else if err != nil {
			return nil, err
		}
		uri := a.cfg.Issuer + "/device"
		return &oauth.DeviceAuthorization{DeviceCode: deviceCode, UserCode: userCode, VerificationURI: uri,
			VerificationURIComplete: uri + "?" + url.Values{"user_code": {userCode}}.Encode(),
			ExpiresIn:               int64(tollgate.DeviceCodeLifetime / time.Second), Interval: int64(tollgate.DevicePollInterval / time.Second)}, nil
	}
	return nil, tollgate.Errorf(tollgate.EInternal, "could not draw a free user code")
}

// errNoDevice is the one answer for a user code that has no login waiting:
// wrong, expired or answered, alike.
var errNoDevice = tollgate.Errorf(tollgate.ENotFound, "no login is waiting for this code: it is wrong, has expired, or was answered already")

// PendingDevice returns the login waiting for userCode, for the person at
// the console's /device page to check before they answer it. ac must be a
// person signed in with a browser: a CLI session does not approve others.
// EInvalid (user_code) for what cannot be a code, ENotFound when no login
// waits for it.
func (a *App) PendingDevice(ctx context.Context, ac Actor, userCode string) (*tollgate.DeviceAuthorization, error) {
	ctx, span := tracer.Start(ctx, "app.PendingDevice")
	defer span.End()
	var d *tollgate.DeviceAuthorization
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		var err error
		d, err = a.pendingDevice(ctx, q, ac, userCode)
		return err
	})
	return d, err
}

func (a *App) pendingDevice(ctx context.Context, q tollgate.Queries, ac Actor, userCode string) (*tollgate.DeviceAuthorization, error) {
	if !ac.Session() {
		return nil, errUnauthenticated
	}
	if ac.Via != "" {
		return nil, tollgate.Errorf(tollgate.EForbidden, "approve a login in the console, signed in with your browser")
	}
	code, err := tollgate.NormalizeUserCode(userCode)
	if err != nil {
		return nil, err
	}
	d, err := q.GetDeviceAuthorizationByUserCode(ctx, a.userCodeHash(code))
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, errNoDevice
	} else if err != nil {
		return nil, err
	}
	if d.Status != tollgate.DevicePending || !a.now().Before(d.ExpiresAt) {
		return nil, errNoDevice
	}
	return d, nil
}

// DecideDevice answers the login waiting for userCode: approve lets the
// CLI that asked act as ac (a CLI session of theirs), deny refuses it. It
// audits device.approved or device.denied in each of ac's orgs, with the
// CLI's address and user agent. Errors as PendingDevice's.
func (a *App) DecideDevice(ctx context.Context, ac Actor, userCode string, approve bool) (*tollgate.DeviceAuthorization, error) {
	ctx, span := tracer.Start(ctx, "app.DecideDevice")
	defer span.End()
	status, action := tollgate.DeviceDenied, tollgate.ActionDeviceDenied
	if approve {
		status, action = tollgate.DeviceApproved, tollgate.ActionDeviceApproved
	}
	var d *tollgate.DeviceAuthorization
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		var err error
		if d, err = a.pendingDevice(ctx, q, ac, userCode); err != nil {
			return err
		}
		now := a.now()
		if err := q.DecideDeviceAuthorization(ctx, d.ID, status, ac.ID, now); tollgate.ErrorCode(err) == tollgate.EConflict {
			return errNoDevice
		} else if err != nil {
			return err
		}
		d.Status, d.UserID, d.DecidedAt = status, ac.ID, now
		target := tollgate.Principal{Type: tollgate.PrincipalUser, ID: ac.ID, Name: ac.Name}
		details := map[string]any{"device_authorization": d.ID, "client_id": d.ClientID, "device_ip": d.IP, "device_user_agent": d.UserAgent}
		return a.auditInOrgsOf(ctx, q, ac.ID, ac, action, target, details)
	})
	return d, err
}

// ErrUnknownDeviceCode is the device grant's answer for a device code that
// is unknown, was used already, or was issued to another client
// (invalid_grant): such a code never becomes good.
var ErrUnknownDeviceCode = oauth.Fail(oauth.CodeInvalidGrant, "the device code is unknown, was used already, or was issued to another client")

// RedeemDeviceCode answers a poll of the token endpoint (RFC 8628 §3.4,
// §3.5) by clientID with deviceCode. While the person has not answered it
// is authorization_pending, or slow_down for a poll sooner than the
// interval (which then grows by 5 seconds); then access_denied if they
// said no, expired_token once the code has expired; and invalid_grant for
// an unknown code, another client's, or one already used. An approved
// code is spent, in one transaction, for a new CLI session of the person
// who approved it, with the absolute expiry of sessions and no idle rule;
// its tgc_ credential is returned once. Of two redemptions of one code,
// one gets the session and the other invalid_grant. ac is the anonymous
// caller: the session starts at its address.
func (a *App) RedeemDeviceCode(ctx context.Context, ac Actor, clientID, deviceCode string) (*oauth.SessionToken, error) {
	ctx, span := tracer.Start(ctx, "app.RedeemDeviceCode")
	defer span.End()
	unknown := ErrUnknownDeviceCode
	if !credential.ValidCredential("tgd_", deviceCode) {
		return nil, unknown
	}
	hash := a.DeviceCodeHash(deviceCode)
	var refusal error
	var resp *oauth.SessionToken
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		refusal, resp = nil, nil
		d, err := q.GetDeviceAuthorizationByDeviceCode(ctx, hash)
		if tollgate.ErrorCode(err) == tollgate.ENotFound {
			refusal = unknown
			return nil
		} else if err != nil {
			return err
		}
		now := a.now()
		switch {
		case d.ClientID != clientID || d.Status == tollgate.DeviceRedeemed:
			refusal = unknown
		case !now.Before(d.ExpiresAt):
			refusal = oauth.Fail(oauth.CodeExpiredToken, "the device code has expired: run tollgate login again")
		case d.Status == tollgate.DeviceDenied:
			refusal = oauth.Fail(oauth.CodeAccessDenied, "the login was denied in the console")
		case d.Status == tollgate.DevicePending:
			// The poll is recorded whatever its answer, so that a
			// client polling too fast keeps being slowed down.
			interval := d.Interval
			refusal = oauth.Fail(oauth.CodeAuthorizationPending, "waiting for the code to be approved in the console")
			if !d.PolledAt.IsZero() && now.Sub(d.PolledAt) < d.Interval {
				interval += tollgate.DeviceSlowDownStep
				refusal = oauth.Fail(oauth.CodeSlowDown, "polling too fast: wait "+interval.String()+" between requests")
			}
			return q.PollDeviceAuthorization(ctx, d.ID, now, interval)
		default: // approved
			if err := q.RedeemDeviceAuthorization(ctx, d.ID); tollgate.ErrorCode(err) == tollgate.EConflict {
				refusal = unknown
				return nil
			} else if err != nil {
				return err
			}
			resp, err = a.startCLISession(ctx, q, ac, d.UserID)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return resp, nil
}

// startCLISession creates a CLI session of userID, started from ac's
// address, and audits session.created via CLI in each of their orgs.
func (a *App) startCLISession(ctx context.Context, q tollgate.Queries, ac Actor, userID string) (*oauth.SessionToken, error) {
	user, err := q.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	token := credential.NewCredential(credential.PrefixCLISession)
	s := &tollgate.Session{IDHash: credential.Hash(token), ID: tollgate.NewID(tollgate.PrefixSession, now), UserID: user.ID,
		Kind: tollgate.SessionCLI, IP: ac.IP, UserAgent: tollgate.PlainUserAgent(ac.UserAgent), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.Sessions.Max)}
	if err := q.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	actor := Actor{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email, IP: ac.IP, UserAgent: ac.UserAgent, Via: ViaCLI, SessionID: s.ID}
	target := tollgate.Principal{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email}
	if err := a.auditInOrgsOf(ctx, q, user.ID, actor, tollgate.ActionSessionCreated, target, map[string]any{"session": s.ID}); err != nil {
		return nil, err
	}
	return &oauth.SessionToken{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(s.ExpiresAt.Sub(now) / time.Second),
		SessionID: s.ID, User: oauth.UserIdentity{ID: user.ID, Email: user.Email, Name: user.Name}}, nil
}
