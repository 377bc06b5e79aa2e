package authn

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// metrics count what the boundary refuses and remembers (R6).
type metrics struct {
	failures     *prometheus.CounterVec
	limited      *prometheus.CounterVec
	negativeHits prometheus.Counter
	listenLost   prometheus.Counter
	auditDropped prometheus.Counter
	credLookups  *prometheus.CounterVec
	credHits     prometheus.Counter // credLookups' two series
	credMisses   prometheus.Counter
	onceBatch    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, a *Authenticator) *metrics {
	m := &metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_auth_failures_total",
			Help: "Failed authentications counted against the failure limits, by door and credential."}, []string{"door", "credential"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_auth_rate_limited_total",
			Help: "Requests refused with 429 because a failure limit was reached, by door, credential and the count that was full."}, []string{"door", "credential", "count"}),
		negativeHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_auth_negative_cache_hits_total",
			Help: "Unknown credentials answered from memory, without a database look-up."}),
		listenLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_invalidation_channel_lost_total",
			Help: "Times the channel that carries other replicas' changes was lost."}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_auth_rate_limit_events_dropped_total",
			Help: "Rate limit audit events not written because the writer was behind."}),
		credLookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_auth_credential_cache_lookups_total",
			Help: "Bearer credentials looked up in the cache of verified credentials, by result: hit (fresh) or miss (absent or stale)."}, []string{"result"}),
		onceBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_replay_log_batch_size",
			Help:    "One-time keys (assertion and DPoP proof jtis) recorded together in one transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, maxOnceBatch}}),
	}
	m.credHits, m.credMisses = m.credLookups.WithLabelValues("hit"), m.credLookups.WithLabelValues("miss")
	cached := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_auth_cached_credentials",
		Help: "Credentials verified and held in memory."}, func() float64 {
		a.mu.Lock()
		defer a.mu.Unlock()
		return float64(a.creds.len())
	})
	reg.MustRegister(m.failures, m.limited, m.negativeHits, m.listenLost, m.auditDropped, m.credLookups, m.onceBatch, cached,
		&cacheSizes{a: a, desc: prometheus.NewDesc("tollgate_auth_cache_entries",
			"Entries held in each of the boundary's caches.", []string{"cache"}, nil)})
	return m
}

// cacheSizes reports the size of every cache of the boundary, read under
// one lock at scrape time.
type cacheSizes struct {
	a    *Authenticator
	desc *prometheus.Desc
}

func (c *cacheSizes) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *cacheSizes) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	a.mu.Lock()
	sizes := map[string]int{"credentials": a.creds.len(), "negative": a.negative.len(), "refused": a.refused.len(), "clients": a.clients.len(), "secrets": a.secrets.len(),
		"trusts": a.trusts.len(), "members": a.members.len(), "sessions": a.sessions.len(), "preflight": a.preflight.len()}
	a.mu.Unlock()
	for name, n := range sizes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), name)
	}
}

// failed counts a failed authentication in the metrics (the limiter
// counted it when the attempt began).
func (a *Authenticator) failed(req Request, l *limiter) {
	a.metrics.failures.WithLabelValues(req.Door, l.name).Inc()
}

// failedNow counts a failed authentication of id ("" for none) in the
// limiter and the metrics, for checks that do not reserve (blocked).
func (a *Authenticator) failedNow(req Request, l *limiter, id string, now time.Time) {
	l.fail(id, req.IP, now)
	a.failed(req, l)
}

// limited answers a request over a failure limit: ERateLimited with the
// wait, counted in the metrics and, sampled, in the audit log.
func (a *Authenticator) limited(ctx context.Context, req Request, l *limiter, id, count string, wait time.Duration) error {
	a.metrics.limited.WithLabelValues(req.Door, l.name, count).Inc()
	a.sample(req, app.RateLimited{Door: req.Door, Credential: l.name, Identifier: id, Count: count, RetryAfter: retryAfter(wait)})
	d := retryAfter(wait)
	return &tollgate.Error{Code: tollgate.ERateLimited, RetryAfter: d,
		Message: fmt.Sprintf("too many failed attempts; try again in %d seconds", int(d.Seconds()))}
}

// Audit sampling: a limited key (identifier, else address) is recorded at
// most once a sampleEvery, with the number of hits left out since, and
// at most sampleBudget events are written a sampleEvery in all, so that an
// attack cannot flood the log. Events are written by one goroutine: a 429
// never waits for the database.
const (
	sampleEvery  = time.Minute
	sampleBudget = 60
)

type sampler struct {
	mu      sync.Mutex
	last    map[string]*sampled
	window  time.Time // start of the current budget window
	written int
	events  chan rateEvent
}

type sampled struct {
	at         time.Time
	suppressed int
}

type rateEvent struct {
	ac app.Actor
	rl app.RateLimited
}

// sample queues an audit event for this hit if its key's turn has come.
func (a *Authenticator) sample(req Request, rl app.RateLimited) {
	s := &a.sampler
	key := rl.Credential + "\x00" + rl.Identifier
	if rl.Identifier == "" {
		key += "\x00" + req.IP
	}
	now := a.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.window) >= sampleEvery {
		s.window, s.written = now, 0
	}
	st := s.last[key]
	if st != nil && now.Sub(st.at) < sampleEvery || s.written >= sampleBudget {
		if st == nil {
			if len(s.last) >= maxEntries {
				clear(s.last)
			}
			st = &sampled{at: now.Add(-sampleEvery)} // its turn comes with the next budget
			s.last[key] = st
		}
		st.suppressed++
		return
	}
	if st == nil {
		if len(s.last) >= maxEntries {
			clear(s.last)
		}
		st = &sampled{}
		s.last[key] = st
	}
	rl.Suppressed, st.at, st.suppressed = st.suppressed, now, 0
	s.written++
	select {
	case s.events <- rateEvent{ac: req.anonymous(), rl: rl}:
	default:
		a.metrics.auditDropped.Inc()
	}
}

// writeSampled writes the queued rate limit events until Close.
func (a *Authenticator) writeSampled() {
	for {
		select {
		case <-a.quit:
			return
		case ev := <-a.sampler.events:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := a.app.RecordRateLimited(ctx, ev.ac, ev.rl); err != nil {
				a.log.Warn("auditing a rate limit", "err", err)
			}
			cancel()
		}
	}
}
