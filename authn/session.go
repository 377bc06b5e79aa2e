package authn

import (
	"context"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
)

// touchEvery is how stale a session's last-seen time may get before a
// request refreshes it: one write a minute per session, not one a request.
const touchEvery = time.Minute

// Caller resolves an admin API or console request: a Bearer credential in
// the Authorization header (which acts in its org with its role, as at
// /check), else the session cookie, else anonymous. An Authorization
// header of another scheme (a browser adds Basic or Negotiate by itself
// behind some proxies) authenticates nothing and is ignored. A refused
// credential, or a cookie of an ended session, is an error, so that the
// client learns why.
func (a *Authenticator) Caller(ctx context.Context, req Request) (app.Actor, error) {
	ctx, span := tracer.Start(ctx, "authn.Caller")
	defer span.End()
	if scheme, tok, ok := tokenScheme(req.Authorization); ok {
		if tok = strings.TrimSpace(tok); strings.HasPrefix(tok, credential.PrefixCLISession) {
			if scheme != "Bearer" || !credential.ValidCredential(credential.PrefixCLISession, tok) {
				return app.Actor{}, errMalformed
			}
			return a.session(ctx, req, tok, tollgate.SessionCLI)
		}
		return a.resolve(ctx, req, tok, scheme)
	}
	if req.Session == "" {
		return req.anonymous(), nil
	}
	return a.session(ctx, req, req.Session, tollgate.SessionBrowser)
}

var (
	errSessionEnded    = tollgate.Errorf(tollgate.EUnauthenticated, "your session has ended; sign in again")
	errCLISessionEnded = tollgate.Errorf(tollgate.EUnauthenticated, "your command-line session has ended or was revoked; run tollgate login again")
)

// sessionEnded is the refusal of an ended session of kind.
func sessionEnded(kind tollgate.SessionKind) error {
	if kind == tollgate.SessionCLI {
		return errCLISessionEnded
	}
	return errSessionEnded
}

// session returns the person of a session: a browser's cookie, or a CLI
// session's tgc_ credential (kind says which was presented; a session of
// the other kind does not answer to it). An unknown, idle or expired
// session is EUnauthenticated (and an ended one is deleted).
// Session IDs are random: one that is unknown is remembered as such (R3),
// and a cookie this process has never seen valid is limited like a bearer
// credential, so that guessing cookies costs the store nothing once the
// address is over its limit. Both are kept by kind as well as hash: a CLI
// session's credential sent as a cookie is unknown as a cookie, and stays
// good as a Bearer.
func (a *Authenticator) session(ctx context.Context, req Request, secret string, kind tollgate.SessionKind) (app.Actor, error) {
	if len(secret) > 128 {
		return app.Actor{}, sessionEnded(kind)
	}
	hash := credential.Hash(secret)
	key := "session:" + string(kind) + ":" + string(hash)
	if a.isNegative(key) {
		a.failed(req, a.bearer)
		return app.Actor{}, sessionEnded(kind)
	}
	now := a.now()
	a.mu.Lock()
	seen := a.sessions.has(key)
	gen := a.gen
	a.mu.Unlock()
	if !seen {
		if wait, which := a.bearer.blocked("", req.IP, now); wait > 0 {
			return app.Actor{}, a.limited(ctx, req, a.bearer, "", which, wait)
		}
	}
	ac, err := a.loadSession(ctx, req, hash, kind)
	if tollgate.ErrorCode(err) == tollgate.EUnauthenticated {
		a.addNegative(gen, key) // unknown or ended: it never comes back
		a.mu.Lock()
		a.sessions.del(key)
		a.mu.Unlock()
		if !seen {
			a.failedNow(req, a.bearer, "", now)
		}
	}
	if err == nil {
		a.mu.Lock()
		a.sessions.put(key, struct{}{}, now)
		a.mu.Unlock()
	}
	return ac, err
}

// loadSession reads a session of kind and its user, refreshing its
// last-seen time at most once a minute.
func (a *Authenticator) loadSession(ctx context.Context, req Request, hash []byte, kind tollgate.SessionKind) (app.Actor, error) {
	s, err := a.store.GetSession(ctx, hash)
	if tollgate.ErrorCode(err) == tollgate.ENotFound || (err == nil && s.Kind != kind) {
		return app.Actor{}, sessionEnded(kind)
	} else if err != nil {
		return app.Actor{}, err
	}
	now := tollgate.Timestamp(a.now())
	if a.cfg.Sessions.Ended(s, now) {
		if err := a.store.DeleteSession(ctx, hash); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
			return app.Actor{}, err
		}
		return app.Actor{}, sessionEnded(kind)
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := a.store.TouchSession(ctx, hash, now); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
			return app.Actor{}, err
		}
	}
	u, err := a.store.GetUser(ctx, s.UserID)
	if err != nil {
		return app.Actor{}, err
	}
	ac := userActor(u, req)
	ac.SessionID = s.ID
	if kind == tollgate.SessionCLI {
		ac.Via = app.ViaCLI
	}
	return ac, nil
}

// errBadPassword is the one answer to a failed sign-in, whether the email
// exists or not.
var errBadPassword = tollgate.Errorf(tollgate.EUnauthenticated, "the email or password is wrong")

// Password checks an email and password for sign-in and returns the user.
// Failures are limited per email and address (ERateLimited with
// RetryAfter) and answered the same way, after the same work, whether or
// not the email exists; each is audited as session.failed.
func (a *Authenticator) Password(ctx context.Context, req Request, email, password string) (app.Actor, error) {
	ctx, span := tracer.Start(ctx, "authn.Password")
	defer span.End()
	if strings.TrimSpace(email) == "" {
		return app.Actor{}, tollgate.Invalidf("email", "email is required")
	}
	if password == "" {
		return app.Actor{}, tollgate.Invalidf("password", "password is required")
	}
	if len(password) > 4*tollgate.MaxPasswordLength {
		return app.Actor{}, tollgate.Invalidf("password", "password must be at most %d characters", tollgate.MaxPasswordLength)
	}
	norm := strings.ToLower(strings.TrimSpace(email))
	if len(norm) > tollgate.MaxEmailLength {
		return app.Actor{}, tollgate.Invalidf("email", "email must be at most %d characters", tollgate.MaxEmailLength)
	}
	user, err := a.checkPassword(ctx, req, norm, password)
	if err == errBadPassword {
		if aerr := a.app.RecordFailedSignIn(ctx, req.anonymous(), norm, user); aerr != nil {
			return app.Actor{}, aerr
		}
	}
	if err != nil {
		return app.Actor{}, err
	}
	return userActor(user, req), nil
}

// checkPassword verifies password for the user with that (normalized)
// email, under the password limits. It returns errBadPassword, with the
// user when the email is known, for a wrong password or unknown email.
func (a *Authenticator) checkPassword(ctx context.Context, req Request, email, password string) (*tollgate.User, error) {
	now := a.now()
	if wait, which := a.password.attempt(email, req.IP, now); wait > 0 {
		return nil, a.limited(ctx, req, a.password, email, which, wait)
	}
	user, err := a.store.GetUserByEmail(ctx, email)
	if err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
		a.password.refund(email, req.IP, now)
		return nil, err
	}
	hash := a.dummyPassword
	if user != nil {
		hash = user.PasswordHash
	}
	ok, err := credential.VerifyPassword(password, hash)
	if err != nil {
		a.password.refund(email, req.IP, now)
		return nil, err
	}
	if user == nil || !ok {
		a.failed(req, a.password)
		return user, errBadPassword
	}
	a.password.succeed(email, req.IP, now)
	return user, nil
}

// Invitee resolves who accepts an invitation. For an email that has no
// account yet it is anonymous: the app creates the user. An existing user
// must prove who they are with their password, under the same limits as
// sign-in. The invitation's own errors (unknown, accepted, expired) are
// the app's.
func (a *Authenticator) Invitee(ctx context.Context, req Request, token, password string) (app.Actor, error) {
	ctx, span := tracer.Start(ctx, "authn.Invitee")
	defer span.End()
	inv, existing, err := a.app.PendingInvitation(ctx, token)
	if err != nil {
		return app.Actor{}, err
	}
	if existing == nil {
		return req.anonymous(), nil
	}
	if _, err := a.checkPassword(ctx, req, existing.Email, password); err == errBadPassword {
		return app.Actor{}, tollgate.Errorf(tollgate.EUnauthenticated, "%s already has an account: enter its password to join", inv.Email)
	} else if err != nil {
		return app.Actor{}, err
	}
	return userActor(existing, req), nil
}

func userActor(u *tollgate.User, req Request) app.Actor {
	return app.Actor{Type: tollgate.PrincipalUser, ID: u.ID, Name: u.Email, PlatformAdmin: u.PlatformAdmin, IP: req.IP, UserAgent: req.UserAgent}
}
