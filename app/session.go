package app

import (
	"context"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// touchEvery is how stale a session's last-seen time may get before a
// request refreshes it: one write a minute per session, not one a request.
const touchEvery = time.Minute

// SessionInfo is the signed-in user and the orgs they belong to.
type SessionInfo struct {
	User        *tollgate.User
	Memberships []tollgate.Membership
}

// errBadCredentials is the one answer to a failed sign-in, whether the email
// exists or not.
var errBadCredentials = tollgate.Errorf(tollgate.EUnauthenticated, "the email or password is wrong")

// SignIn checks an email and password and starts a session. It returns the
// session token for the cookie. Failures are rate limited per email and per
// client address (ERateLimited with RetryAfter) and answered the same way,
// after the same work, whether or not the email exists; each is audited as
// session.failed.
func (a *App) SignIn(ctx context.Context, ac Actor, email, password string) (string, *SessionInfo, error) {
	if strings.TrimSpace(email) == "" {
		return "", nil, tollgate.Invalidf("email", "email is required")
	}
	if password == "" {
		return "", nil, tollgate.Invalidf("password", "password is required")
	}
	if len(password) > 4*tollgate.MaxPasswordLength {
		return "", nil, tollgate.Invalidf("password", "password must be at most %d characters", tollgate.MaxPasswordLength)
	}
	now := a.now()
	norm := strings.ToLower(strings.TrimSpace(email))
	keys := map[string]int{"email:" + norm: a.cfg.SignInLimits.PerEmail, "ip:" + ac.IP: a.cfg.SignInLimits.PerIP}
	if wait := a.limiter.blocked(now, keys); wait > 0 {
		return "", nil, &tollgate.Error{Code: tollgate.ERateLimited, RetryAfter: wait,
			Message: "too many failed sign-ins; try again later"}
	}

	user, err := a.store.GetUserByEmail(ctx, norm)
	if err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
		return "", nil, err
	}
	hash := a.dummyHash
	if user != nil {
		hash = user.PasswordHash
	}
	ok, err := credential.VerifyPassword(password, hash)
	if err != nil {
		return "", nil, err
	}
	if user == nil || !ok {
		a.limiter.fail(now, keys)
		if err := a.auditFailedSignIn(ctx, ac, norm, user); err != nil {
			return "", nil, err
		}
		return "", nil, errBadCredentials
	}
	a.limiter.reset("email:" + norm)

	var token string
	var info *SessionInfo
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		var err error
		token, info, err = a.startSession(ctx, q, ac, user)
		return err
	})
	return token, info, err
}

// auditFailedSignIn writes session.failed in every org of a known user, or
// once with no org for an unknown email, so both cases do the same work.
func (a *App) auditFailedSignIn(ctx context.Context, ac Actor, email string, user *tollgate.User) error {
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		actor := Actor{Type: tollgate.PrincipalAnonymous, Name: email, IP: ac.IP, UserAgent: ac.UserAgent}
		target := tollgate.Principal{Type: tollgate.PrincipalUser, Name: email}
		orgs := []string{""}
		if user != nil {
			actor = Actor{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email, IP: ac.IP, UserAgent: ac.UserAgent}
			target.ID = user.ID
			ms, err := q.ListMemberships(ctx, user.ID)
			if err != nil {
				return err
			}
			if len(ms) > 0 {
				orgs = orgs[:0]
			}
			for _, m := range ms {
				orgs = append(orgs, m.OrgID)
			}
		}
		for _, org := range orgs {
			if err := a.audit(ctx, q, actor, org, tollgate.ActionSessionFailed, target, map[string]any{"reason": "bad_credentials"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// startSession creates a session for user inside q and audits
// session.created in each of the user's orgs.
func (a *App) startSession(ctx context.Context, q tollgate.Queries, ac Actor, user *tollgate.User) (string, *SessionInfo, error) {
	now := a.now()
	token, hash := credential.NewToken()
	s := &tollgate.Session{IDHash: hash, UserID: user.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.SessionMax)}
	if err := q.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	ms, err := q.ListMemberships(ctx, user.ID)
	if err != nil {
		return "", nil, err
	}
	actor := Actor{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email, IP: ac.IP, UserAgent: ac.UserAgent}
	target := tollgate.Principal{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email}
	for _, m := range ms {
		if err := a.audit(ctx, q, actor, m.OrgID, tollgate.ActionSessionCreated, target, nil); err != nil {
			return "", nil, err
		}
	}
	return token, &SessionInfo{User: user, Memberships: ms}, nil
}

// Authenticate returns the user actor of a session token. An unknown, idle
// or expired session is EUnauthenticated (and an expired one is deleted).
func (a *App) Authenticate(ctx context.Context, token, ip, userAgent string) (Actor, error) {
	expired := tollgate.Errorf(tollgate.EUnauthenticated, "your session has ended; sign in again")
	if token == "" || len(token) > 128 {
		return Actor{}, errUnauthenticated
	}
	hash := credential.Hash(token)
	s, err := a.store.GetSession(ctx, hash)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return Actor{}, expired
	} else if err != nil {
		return Actor{}, err
	}
	now := a.now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= a.cfg.SessionIdle {
		if err := a.store.DeleteSession(ctx, hash); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
			return Actor{}, err
		}
		return Actor{}, expired
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := a.store.TouchSession(ctx, hash, now); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
			return Actor{}, err
		}
	}
	u, err := a.store.GetUser(ctx, s.UserID)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Type: tollgate.PrincipalUser, ID: u.ID, Name: u.Email, PlatformAdmin: u.PlatformAdmin, IP: ip, UserAgent: userAgent}, nil
}

// SignOut ends the session of token. Ending an unknown session is not an
// error.
func (a *App) SignOut(ctx context.Context, token string) error {
	err := a.store.DeleteSession(ctx, credential.Hash(token))
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil
	}
	return err
}

// Me returns the signed-in user and their memberships.
func (a *App) Me(ctx context.Context, ac Actor) (*SessionInfo, error) {
	if ac.Type == tollgate.PrincipalAnonymous {
		return nil, errUnauthenticated
	}
	if !ac.Session() {
		return nil, tollgate.Errorf(tollgate.EForbidden, "/me describes a signed-in person; a bearer credential acts in its organization with its role")
	}
	u, err := a.store.GetUser(ctx, ac.ID)
	if err != nil {
		return nil, err
	}
	ms, err := a.store.ListMemberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &SessionInfo{User: u, Memberships: ms}, nil
}

// PruneSessions deletes sessions past their absolute or idle expiry and
// returns how many.
func (a *App) PruneSessions(ctx context.Context) (int, error) {
	now := a.now()
	return a.store.DeleteSessionsBefore(ctx, now, now.Add(-a.cfg.SessionIdle))
}
