package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/tollgate/tollgate"
)

// The replay log: every single-use jti (client assertions, DPoP proofs)
// is recorded in the store, which all replicas share, before the request
// it came with is accepted. Each record is a write, so records queued
// together are committed in one transaction (group commit): under load,
// one fsync serves many requests, and an idle server still commits each
// at once.

// onceJob is one key waiting for the committer.
type onceJob struct {
	key  string
	exp  time.Time
	err  error // EConflict: used already
	done chan struct{}
}

// maxOnceBatch bounds the keys of one transaction.
const maxOnceBatch = 256

// errClosed: the boundary is shutting down.
var errClosed = errors.New("authn: closed")

// useOnce records what (a jti, with what it belongs to) of a kind as used
// until exp: a second use before exp is replay. The key is hashed, so that
// what a client sent is never stored as is.
func (a *Authenticator) useOnce(ctx context.Context, kind, what string, exp time.Time, replay error) error {
	sum := sha256.Sum256([]byte(kind + "\x00" + what))
	j := &onceJob{key: kind + ":" + hex.EncodeToString(sum[:]), exp: tollgate.Timestamp(exp), done: make(chan struct{})}
	select {
	case a.onceJobs <- j:
	case <-a.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return ctx.Err() // the job still commits; the caller stops waiting
	case <-a.quit:
		return errClosed // queued as the committer stopped
	}
	if tollgate.ErrorCode(j.err) == tollgate.EConflict {
		return replay
	}
	return j.err
}

// onceLoop commits queued keys until Close: whatever queued while the
// previous batch committed, up to maxOnceBatch, in one transaction.
func (a *Authenticator) onceLoop() {
	for {
		var batch []*onceJob
		select {
		case <-a.quit:
			// Refuse what is still queued: the store may be closing.
			for {
				select {
				case j := <-a.onceJobs:
					j.err = errClosed
					close(j.done)
				default:
					return
				}
			}
		case j := <-a.onceJobs:
			batch = append(batch, j)
		}
	fill:
		for len(batch) < maxOnceBatch {
			select {
			case j := <-a.onceJobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		a.commitOnce(batch)
	}
}

// commitOnce records a batch in one transaction; if the transaction
// fails, each key is tried alone, so that one bad key cannot fail the
// others.
func (a *Authenticator) commitOnce(batch []*onceJob) {
	a.metrics.onceBatch.Observe(float64(len(batch)))
	err := a.onceTx(batch)
	if err != nil && len(batch) > 1 {
		for _, j := range batch {
			if err := a.onceTx([]*onceJob{j}); err != nil {
				j.err = err
			}
			close(j.done)
		}
		return
	}
	for _, j := range batch {
		if err != nil {
			j.err = err
		}
		close(j.done)
	}
}

func (a *Authenticator) onceTx(batch []*onceJob) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := tollgate.Timestamp(a.now())
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		for _, j := range batch {
			j.err = q.UseOnce(ctx, j.key, now, j.exp)
			if j.err != nil && tollgate.ErrorCode(j.err) != tollgate.EConflict {
				return j.err
			}
		}
		return nil
	})
}
