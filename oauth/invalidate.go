package oauth

import (
	"context"
	"encoding/hex"
	"strings"
	"time"
)

// Invalidation keys broadcast between processes.
const (
	keyAll        = "*"
	prefixAccount = "sa:"
	prefixCred    = "cred:"
)

// ServiceAccountChanged drops what this process cached about a service
// account and tells the other processes to do the same. The admin use
// cases call it after each committed change to an account.
func (s *Service) ServiceAccountChanged(id string) {
	s.Forget(id)
	s.broadcast(prefixAccount + id)
}

// CredentialChanged drops a cached credential, by its keyed hash, here and
// in the other processes (an API token changed, was revoked or reassigned;
// an access token was revoked).
func (s *Service) CredentialChanged(hash []byte) {
	s.ForgetCredential(hash)
	s.broadcast(prefixCred + hex.EncodeToString(hash))
}

func (s *Service) broadcast(key string) {
	if s.cfg.Broadcaster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Broadcaster.Broadcast(ctx, key); err != nil {
		// Other processes then see the change when their cache entry
		// expires (CacheTTL).
		s.log.Warn("broadcasting an invalidation", "err", err)
	}
}

// apply handles a key broadcast by any process.
func (s *Service) apply(key string) {
	switch {
	case key == keyAll:
		s.mu.Lock()
		clear(s.clients)
		clear(s.creds)
		clear(s.preflight)
		s.mu.Unlock()
	case strings.HasPrefix(key, prefixAccount):
		s.Forget(strings.TrimPrefix(key, prefixAccount))
	case strings.HasPrefix(key, prefixCred):
		if h, err := hex.DecodeString(strings.TrimPrefix(key, prefixCred)); err == nil {
			s.ForgetCredential(h)
		}
	}
}

// listen applies other processes' invalidations until Close.
func (s *Service) listen(ctx context.Context) {
	defer close(s.listened)
	s.cfg.Broadcaster.Listen(ctx, s.apply, func(err error) {
		s.log.Warn("lost the invalidation channel; listening again", "err", err)
	})
}
