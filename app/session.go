package app

import (
	"context"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// SessionInfo is the signed-in user and the orgs they belong to.
type SessionInfo struct {
	User        *tollgate.User
	Memberships []tollgate.Membership
}

// StartSession signs in ac, a user whose password the authn package has
// checked: it creates a session, audits session.created in each of the
// user's orgs, and returns the session token for the cookie.
func (a *App) StartSession(ctx context.Context, ac Actor) (string, *SessionInfo, error) {
	ctx, span := tracer.Start(ctx, "app.StartSession")
	defer span.End()
	if ac.Type != tollgate.PrincipalUser || ac.Credential != nil {
		return "", nil, errUnauthenticated
	}
	var token string
	var info *SessionInfo
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		user, err := q.GetUser(ctx, ac.ID)
		if err != nil {
			return err
		}
		token, info, err = a.startSession(ctx, q, ac, user)
		return err
	})
	return token, info, err
}

// RecordFailedSignIn audits a refused sign-in for email: session.failed in
// every org of user, or once with no org when user is nil (an unknown
// email), so that both cases do the same work. The actor is anonymous,
// with the email tried in the details: a wrong password proves nobody.
func (a *App) RecordFailedSignIn(ctx context.Context, ac Actor, email string, user *tollgate.User) error {
	ctx, span := tracer.Start(ctx, "app.RecordFailedSignIn")
	defer span.End()
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		// Whoever failed is not known to be the user: the actor is
		// anonymous, and the email they tried is in the details.
		actor := Actor{Type: tollgate.PrincipalAnonymous, IP: ac.IP, UserAgent: ac.UserAgent}
		target := tollgate.Principal{Type: tollgate.PrincipalUser, Name: email}
		var userID string
		if user != nil {
			target.ID, target.Name, userID = user.ID, user.Email, user.ID
		}
		return a.auditInOrgsOf(ctx, q, userID, actor, tollgate.ActionSessionFailed, target, map[string]any{"reason": "bad_credentials", "email": email})
	})
}

// auditInOrgsOf audits an event about a user in every org they belong to,
// or once with no org when they belong to none (or userID is "").
func (a *App) auditInOrgsOf(ctx context.Context, q tollgate.Queries, userID string, ac Actor, action string, target tollgate.Principal, details map[string]any) error {
	orgs := []string{""}
	if userID != "" {
		ms, err := q.ListMemberships(ctx, userID)
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
		if err := a.audit(ctx, q, ac, org, action, target, details); err != nil {
			return err
		}
	}
	return nil
}

// startSession creates a session for user inside q and audits
// session.created in each of the user's orgs.
func (a *App) startSession(ctx context.Context, q tollgate.Queries, ac Actor, user *tollgate.User) (string, *SessionInfo, error) {
	now := a.now()
	token, hash := credential.NewToken()
	s := &tollgate.Session{IDHash: hash, ID: tollgate.NewID(tollgate.PrefixSession, now), UserID: user.ID, Kind: tollgate.SessionBrowser,
		IP: ac.IP, UserAgent: tollgate.PlainUserAgent(ac.UserAgent), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.Sessions.Max)}
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

// SignOut ends the session of token. Ending an unknown session is not an
// error.
func (a *App) SignOut(ctx context.Context, token string) error {
	ctx, span := tracer.Start(ctx, "app.SignOut")
	defer span.End()
	err := a.store.DeleteSession(ctx, credential.Hash(token))
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil
	}
	return err
}

// Me returns the signed-in user and their memberships.
func (a *App) Me(ctx context.Context, ac Actor) (*SessionInfo, error) {
	ctx, span := tracer.Start(ctx, "app.Me")
	defer span.End()
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

// PruneSessions deletes sessions past their absolute or idle expiry, and
// device authorizations that expired, and returns how many sessions.
func (a *App) PruneSessions(ctx context.Context) (int, error) {
	ctx, span := tracer.Start(ctx, "app.PruneSessions")
	defer span.End()
	now := a.now()
	if _, err := a.store.DeleteDeviceAuthorizationsBefore(ctx, now); err != nil {
		return 0, err
	}
	return a.store.DeleteSessionsBefore(ctx, now, now.Add(-a.cfg.Sessions.Idle))
}

// MySessions returns the signed-in person's sessions that have not ended,
// newest first: browsers and command lines.
func (a *App) MySessions(ctx context.Context, ac Actor) ([]tollgate.Session, error) {
	ctx, span := tracer.Start(ctx, "app.MySessions")
	defer span.End()
	if err := personOnly(ac); err != nil {
		return nil, err
	}
	all, err := a.store.ListSessions(ctx, ac.ID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	live := all[:0]
	for _, s := range all {
		if !a.cfg.Sessions.Ended(&s, now) {
			live = append(live, s)
		}
	}
	return live, nil
}

// RevokeMySession ends the signed-in person's session with public ID id,
// at once (every request reads its session), and audits session.revoked
// in each of their orgs. Another person's session is ENotFound.
func (a *App) RevokeMySession(ctx context.Context, ac Actor, id string) error {
	ctx, span := tracer.Start(ctx, "app.RevokeMySession")
	defer span.End()
	if err := personOnly(ac); err != nil {
		return err
	}
	if !tollgate.HasPrefix(id, tollgate.PrefixSession) {
		return tollgate.Errorf(tollgate.ENotFound, "session %q not found", id)
	}
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		if err := q.DeleteSessionByID(ctx, ac.ID, id); tollgate.ErrorCode(err) == tollgate.ENotFound {
			return tollgate.Errorf(tollgate.ENotFound, "session %q not found", id)
		} else if err != nil {
			return err
		}
		target := tollgate.Principal{Type: tollgate.PrincipalUser, ID: ac.ID, Name: ac.Name}
		return a.auditInOrgsOf(ctx, q, ac.ID, ac, tollgate.ActionSessionRevoked, target, map[string]any{"session": id})
	})
}

// personOnly refuses anyone but a signed-in person: sessions are a
// person's, not a machine credential's.
func personOnly(ac Actor) error {
	if ac.Type == tollgate.PrincipalAnonymous {
		return errUnauthenticated
	}
	if !ac.Session() {
		return tollgate.Errorf(tollgate.EForbidden, "sessions belong to people: a bearer credential has none")
	}
	return nil
}
