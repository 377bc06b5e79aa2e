package authn

import (
	"context"

	"github.com/tollgate/tollgate"
)

// listen applies the changes every process broadcasts (this one's arrive
// before the change's Broadcast returns) until ctx ends.
func (a *Authenticator) listen(ctx context.Context) {
	a.store.Listen(ctx, func(key string) { a.apply(tollgate.ParseChange(key)) }, func(err error) {
		a.metrics.listenLost.Inc()
		a.log.Warn("lost the channel of other replicas' changes; listening again", "err", err)
	})
}

// apply drops what the change makes stale. Loads that began before it do
// not store what they read (gen).
func (a *Authenticator) apply(c tollgate.Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	switch c.Kind {
	case tollgate.ChangeServiceAccount:
		// Credentials of the account read its state from here at each
		// use, so dropping the account is enough.
		a.clients.del(c.ID)
		a.secrets.del(c.ID)
		a.trusts.del(c.ID)
	case tollgate.ChangeCredential:
		if h, ok := c.Hash(); ok {
			a.creds.del(string(h))
			a.negative.del(string(h))
			a.preflight.clear() // a token's domains may have changed
		}
	case tollgate.ChangeMember:
		a.members.del(c.OrgID + "/" + c.ID)
	case tollgate.ChangeOrg:
		a.clients.clear() // each account's entry holds its org
	default:
		a.clients.clear()
		a.secrets.clear()
		a.trusts.clear()
		a.members.clear()
		a.creds.clear()
		a.negative.clear()
		a.refused.clear() // gen stops every load under way
		a.sessions.clear()
		a.preflight.clear()
	}
}
