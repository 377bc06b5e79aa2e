package authn

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// usage collects when, and from which origin, credentials were last used,
// so that the hot paths never write to the database (A8). The flusher
// writes it in one transaction every UsageFlushEvery: at most one row
// update per credential per interval.
type usage struct {
	tokens    map[string]tokenUse  // API token ID → last use
	accounts  map[string]time.Time // service account ID → last use
	keys      map[string]time.Time // client key ID → last use
	federated map[string]time.Time // federated credential ID → last use
}

type tokenUse struct {
	at     time.Time
	origin string
}

func newUsage() usage {
	return usage{tokens: map[string]tokenUse{}, accounts: map[string]time.Time{}, keys: map[string]time.Time{}, federated: map[string]time.Time{}}
}

// used records a use of an API token (tokenID may be "") and of the
// service account behind it (accountID may be "").
func (a *Authenticator) used(tokenID, accountID, origin string) {
	now := tollgate.Timestamp(a.now())
	a.mu.Lock()
	if tokenID != "" {
		a.usage.tokens[tokenID] = tokenUse{at: now, origin: origin}
	}
	if accountID != "" {
		a.usage.accounts[accountID] = now
	}
	a.mu.Unlock()
}

// usedKey records a use of a client key, usedFederated one of a federated
// credential.
func (a *Authenticator) usedKey(id string) {
	a.usedIn(func(u *usage) map[string]time.Time { return u.keys }, id)
}
func (a *Authenticator) usedFederated(id string) {
	a.usedIn(func(u *usage) map[string]time.Time { return u.federated }, id)
}

func (a *Authenticator) usedIn(m func(*usage) map[string]time.Time, id string) {
	now := tollgate.Timestamp(a.now())
	a.mu.Lock()
	m(&a.usage)[id] = now
	a.mu.Unlock()
}

// flushUsage writes what was recorded since the last flush, in one call
// (Store.RecordUses). Credentials deleted meanwhile are skipped.
func (a *Authenticator) flushUsage(ctx context.Context) error {
	a.mu.Lock()
	u := a.usage
	a.usage = newUsage()
	a.mu.Unlock()
	uses := &tollgate.Uses{Tokens: make([]tollgate.TokenUse, 0, len(u.tokens))}
	for id, use := range u.tokens {
		uses.Tokens = append(uses.Tokens, tollgate.TokenUse{Use: tollgate.Use{ID: id, At: use.at}, Origin: use.origin})
	}
	list := func(m map[string]time.Time) []tollgate.Use {
		l := make([]tollgate.Use, 0, len(m))
		for id, at := range m {
			l = append(l, tollgate.Use{ID: id, At: at})
		}
		return l
	}
	uses.Accounts, uses.Keys, uses.Federated = list(u.accounts), list(u.keys), list(u.federated)
	return a.store.RecordUses(ctx, uses)
}

// flushLoop flushes usage every interval until Close, then once more.
func (a *Authenticator) flushLoop() {
	t := time.NewTicker(a.cfg.UsageFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-a.quit:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := a.flushUsage(ctx); err != nil {
				a.log.Error("flushing last-used times at shutdown", "err", err)
			}
			cancel()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.flushUsage(ctx); err != nil {
			a.log.Warn("flushing last-used times", "err", err)
		}
		cancel()
	}
}
