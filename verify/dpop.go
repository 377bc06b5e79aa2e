package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/oauth"
)

// ErrInvalidProof is wrapped by every error about a DPoP proof (RFC 9449):
// missing, malformed, for another request, of another key, or replayed.
var ErrInvalidProof = errors.New("invalid DPoP proof")

func invalidProof(err error) error {
	msg := err.Error()
	var te *tollgate.Error
	if errors.As(err, &te) {
		msg = te.Message // an oauth refusal's description
	}
	return fmt.Errorf("%w: %s", ErrInvalidProof, msg)
}

// errNoToken: the request presents no access token at all.
var errNoToken = fmt.Errorf("%w: an access token is required", ErrInvalidToken)

// ReplayCache remembers DPoP proof IDs until they expire, so that each
// proof is accepted once. The default is in memory, per process; resource
// servers with several replicas can share one (a database or Redis SETNX).
type ReplayCache interface {
	// UseOnce records key until exp and reports whether it was new.
	UseOnce(ctx context.Context, key string, exp time.Time) (bool, error)
}

// memoryReplay is the default ReplayCache: bounded, per process.
type memoryReplay struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]time.Time
}

// maxReplayKeys bounds the default replay cache: proofs live a minute, so
// this is 10,000 proofs a second.
const maxReplayKeys = 600_000

func (m *memoryReplay) UseOnce(_ context.Context, key string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if t, ok := m.seen[key]; ok && now.Before(t) {
		return false, nil
	}
	if len(m.seen) >= maxReplayKeys {
		for k, t := range m.seen {
			if !now.Before(t) {
				delete(m.seen, k)
			}
		}
		if len(m.seen) >= maxReplayKeys {
			return false, errors.New("verify: the DPoP replay cache is full")
		}
	}
	m.seen[key] = exp
	return true, nil
}

// VerifyRequest checks the access token of an HTTP request: sent as
// "Authorization: Bearer <token>", or, for a token bound to a DPoP key
// (its cnf.jkt), as "Authorization: DPoP <token>" with a DPoP header
// holding a proof of that key for this request's method and URL, used
// once (RFC 9449 §7). A bound token sent as Bearer is refused, as is an
// unbound one sent as DPoP. Errors about the token wrap ErrInvalidToken;
// about the proof, ErrInvalidProof.
func (v *Verifier) VerifyRequest(r *http.Request) (*Identity, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	dpop := strings.EqualFold(scheme, oauth.TokenTypeDPoP)
	if !ok || tok == "" || (!dpop && !strings.EqualFold(scheme, "Bearer")) {
		return nil, errNoToken
	}
	id, err := v.Verify(r.Context(), tok)
	if err != nil {
		return nil, err
	}
	switch {
	case id.JKT == "" && dpop:
		return nil, invalidProof(errors.New("this token is not bound to a DPoP key: send it as Bearer"))
	case id.JKT == "":
		return id, nil
	case !dpop:
		return nil, invalidProof(errors.New("this token is bound to a DPoP key: send it as Authorization: DPoP, with a DPoP proof"))
	}
	values := r.Header.Values("DPoP")
	if len(values) != 1 {
		return nil, invalidProof(errors.New("send exactly one DPoP header"))
	}
	p, err := oauth.ParseProof(values[0])
	if err != nil {
		return nil, invalidProof(err)
	}
	if err := p.Check(r.Method, v.cfg.RequestURL(r), tok, v.cfg.Now()); err != nil {
		return nil, invalidProof(err)
	}
	if p.JKT() != id.JKT {
		return nil, invalidProof(errors.New("the DPoP proof is signed by another key than the one the token is bound to"))
	}
	fresh, err := v.cfg.ReplayCache.UseOnce(r.Context(), p.JKT()+" "+p.JWT.Claims.ID, p.Expiry())
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, invalidProof(errors.New("the DPoP proof was used already: make a new proof for each request"))
	}
	return id, nil
}

// requestURL is the default Config.RequestURL: the URL the client called,
// from the connection (https when it is TLS) and the Host header.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}
