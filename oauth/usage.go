package oauth

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// usage collects when, and from which origin, credentials were last used,
// so that the hot paths never write to the database (A8). The flusher
// writes it in one transaction every UsageFlushEvery: at most one write per
// credential per interval.
type usage struct {
	tokens   map[string]tokenUse  // API token ID → last use
	accounts map[string]time.Time // service account ID → last use
}

type tokenUse struct {
	at     time.Time
	origin string
}

// used records a use of an API token (tokenID may be "") and of the
// service account behind it (accountID may be "").
func (s *Service) used(tokenID, accountID, origin string) {
	now := tollgate.Timestamp(s.clock.Now())
	s.mu.Lock()
	if tokenID != "" {
		s.usage.tokens[tokenID] = tokenUse{at: now, origin: origin}
	}
	if accountID != "" {
		s.usage.accounts[accountID] = now
	}
	s.mu.Unlock()
}

// flushUsage writes what was recorded since the last flush. Credentials
// deleted meanwhile are skipped.
func (s *Service) flushUsage(ctx context.Context) error {
	s.mu.Lock()
	u := s.usage
	s.usage = usage{tokens: map[string]tokenUse{}, accounts: map[string]time.Time{}}
	s.mu.Unlock()
	if len(u.tokens) == 0 && len(u.accounts) == 0 {
		return nil
	}
	return s.store.InTx(ctx, func(q tollgate.Queries) error {
		for id, use := range u.tokens {
			if err := q.TouchAPIToken(ctx, id, use.at, use.origin); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
				return err
			}
		}
		for id, at := range u.accounts {
			if err := q.TouchServiceAccount(ctx, id, at); err != nil && tollgate.ErrorCode(err) != tollgate.ENotFound {
				return err
			}
		}
		return nil
	})
}

// flushLoop flushes usage every interval until quit, then once more.
func (s *Service) flushLoop() {
	defer close(s.flushed)
	t := time.NewTicker(s.cfg.UsageFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.quit:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.flushUsage(ctx); err != nil {
				s.log.Error("flushing last-used times at shutdown", "err", err)
			}
			cancel()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.flushUsage(ctx); err != nil {
			s.log.Warn("flushing last-used times", "err", err)
		}
		cancel()
	}
}
