package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/keys"
	"github.com/tollgate/tollgate/oauth"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"
)

// metrics count what the token endpoint does. Reusing a token is counted
// here only, never audited (DESIGN.md L2).
type metrics struct {
	issued    prometheus.Counter
	reused    prometheus.Counter
	mint      prometheus.Histogram
	batchSize prometheus.Histogram
	// webhookAttempts counts webhook attempts by the delivery's status
	// after them: delivered, pending (to be retried) or failed.
	webhookAttempts *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		issued: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_access_tokens_issued_total",
			Help: "Access tokens minted by the token endpoint."}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_access_tokens_reused_total",
			Help: "Token requests answered with the still-valid current token."}),
		mint: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_token_mint_duration_seconds",
			Help:    "Time to mint an access token: signing, sealing, waiting for the committer and its transaction.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tollgate_token_mint_batch_size",
			Help:    "Mints committed together in one transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, maxBatch}}),
		webhookAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_webhook_attempts_total",
			Help: "Webhook delivery attempts, by the delivery's status after each: delivered, pending (retried later) or failed (given up)."}, []string{"status"}),
	}
	reg.MustRegister(m.issued, m.reused, m.mint, m.batchSize, m.webhookAttempts)
	return m
}

// registerMemo publishes the size of the memo of current tokens.
func (is *issuer) registerMemo(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_token_memo_entries",
		Help: "Current access tokens held in memory for reuse."}, func() float64 {
		is.mu.Lock()
		defer is.mu.Unlock()
		return float64(len(is.memo))
	}))
}

// issued is an access token with its plain string and claims, held only
// in memory.
type issued struct {
	rec      tollgate.AccessToken
	token    string
	claims   oauth.Claims
	loadedAt time.Time
}

// maxMemo bounds the memo of current tokens.
const maxMemo = 100_000

// maxBatch bounds how many mints share one transaction.
const maxBatch = 64

// issuer is the machinery of the token endpoint: a memo of each account's
// current token, a single flight per account, and the committer that
// writes new tokens in groups.
type issuer struct {
	a     *App
	mu    sync.Mutex
	memo  map[string]*issued // by memoKey
	group singleflight.Group

	jobs    chan *mintJob
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// ctx is the committer's: cancelled by close, so that a database that
	// hangs cannot hold a shutdown.
	ctx    context.Context
	cancel context.CancelFunc
}

func newIssuer(a *App) *issuer {
	is := &issuer{a: a, memo: map[string]*issued{}, jobs: make(chan *mintJob, maxBatch), quit: make(chan struct{}), stopped: make(chan struct{})}
	is.ctx, is.cancel = context.WithCancel(context.Background())
	go is.commitLoop()
	return is
}

func (is *issuer) close() {
	is.once.Do(func() {
		close(is.quit)
		is.cancel()
	})
	<-is.stopped
}

// memoKey is the key of an account's current token for a DPoP key
// thumbprint ("" for Bearer tokens): reuse is per key (K3).
func memoKey(accountID, jkt string) string {
	if jkt == "" {
		return accountID
	}
	return accountID + " " + jkt
}

// forget drops the memo of an account's Bearer token (after a change to
// the account). Memos of DPoP-bound tokens are checked against the
// account's ReuseAfter at each use, as every memo is.
func (is *issuer) forget(id string) {
	is.mu.Lock()
	delete(is.memo, id)
	is.mu.Unlock()
}

func (is *issuer) remember(id string, cur *issued) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if len(is.memo) >= maxMemo {
		for k := range is.memo { // map order is random: evict a random tenth
			delete(is.memo, k)
			if len(is.memo) < maxMemo*9/10 {
				break
			}
		}
	}
	is.memo[id] = cur
}

// current returns the account's latest token for the DPoP key jkt ("" for
// Bearer): from the memo while it is younger than ReuseMemoTTL, else read
// (and unsealed) from the store. nil when the account has none.
func (is *issuer) current(ctx context.Context, id, jkt string, now time.Time) (*issued, error) {
	key := memoKey(id, jkt)
	is.mu.Lock()
	cur := is.memo[key]
	is.mu.Unlock()
	if cur != nil && now.Sub(cur.loadedAt) < is.a.cfg.ReuseMemoTTL {
		return cur, nil
	}
	rec, err := is.a.store.LatestAccessToken(ctx, id, jkt)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if cur, err = is.unseal(rec, now); err != nil {
		return nil, err
	}
	is.remember(key, cur)
	return cur, nil
}

func (is *issuer) unseal(rec *tollgate.AccessToken, now time.Time) (*issued, error) {
	tok, err := is.a.cfg.Keyring.Open(rec.Sealed, rec.ID)
	if err != nil {
		return nil, fmt.Errorf("app: access token %s: %w", rec.ID, err)
	}
	cl, err := oauth.ClaimsOf(string(tok))
	if err != nil {
		return nil, fmt.Errorf("app: access token %s: %w", rec.ID, err)
	}
	return &issued{rec: *rec, token: string(tok), claims: *cl, loadedAt: now}, nil
}

// reusable reports whether cur may be handed out again at now: not
// revoked, issued after the account's last disable, rotation, role change
// or revocation of its current token (ReuseAfter), carrying the account's
// current role and lifetime (a mint that raced a role change on another
// replica may have stored the old role), made for this server's issuer and
// audience (they may have been reconfigured, or the database restored
// under another URL), and with more time left than the org's reuse floor
// (and some).
func (a *App) reusable(cur *issued, sa *tollgate.ServiceAccount, org *tollgate.Org, now time.Time) bool {
	if cur == nil || cur.rec.RevokedAt != nil || cur.rec.IssuedAt.Before(sa.ReuseAfter) || !cur.claims.Matches(sa) ||
		cur.claims.Issuer != a.cfg.Issuer || cur.claims.Audience != a.cfg.Audience {
		return false
	}
	left := cur.rec.ExpiresAt.Sub(now)
	return left > 0 && left >= time.Duration(org.Settings.TokenReuseFloorSeconds)*time.Second
}

// client returns the service account and org of an authenticated OAuth
// client (by secret, key or federated token), or an invalid_client error.
func client(ac Actor) (*tollgate.ServiceAccount, *tollgate.Org, error) {
	c := ac.Credential
	if c == nil || c.Account == nil || c.Org == nil ||
		(c.Kind != tollgate.CredentialClientSecret && c.Kind != tollgate.CredentialClientKey && c.Kind != tollgate.CredentialFederated) {
		return nil, nil, oauth.Fail(oauth.CodeInvalidClient, "client authentication is required")
	}
	return c.Account, c.Org, nil
}

// IssueToken answers a token request of ac, an authenticated client
// (client credentials, RFC 6749 §4.4, or a federated grant): the
// account's current token while it may be reused (T2, T2a), else a newly
// minted one. With a DPoP proof (ac.Credential.JKT) the token is bound to
// its key, and reuse is per key (K3); an account that requires DPoP gets
// no token without one. Concurrent requests for one account and key share
// one mint, and the mint finishes for the others when the request that
// started it goes away. The only scope an account may ask for is its role
// (T1a): another is invalid_scope.
func (a *App) IssueToken(ctx context.Context, ac Actor, scope string) (*oauth.TokenResponse, error) {
	ctx, span := tracer.Start(ctx, "app.IssueToken")
	defer span.End()
	sa, org, err := client(ac)
	if err != nil {
		return nil, err
	}
	if scope != "" && scope != string(sa.Role) {
		return nil, oauth.Fail(oauth.CodeInvalidScope, "the only scope this account can request is its role, "+string(sa.Role)+"; or leave scope out")
	}
	jkt := ac.Credential.JKT
	if sa.RequireDPoP && jkt == "" {
		return nil, oauth.Fail(oauth.CodeInvalidDPoPProof, "this service account requires DPoP: send a DPoP proof with the token request")
	}
	now := a.clock.Now()
	cur, err := a.issuer.current(ctx, sa.ID, jkt, now)
	if err != nil {
		return nil, err
	}
	if a.reusable(cur, sa, org, now) {
		a.metrics.reused.Inc()
		return oauth.NewTokenResponse(cur.token, jkt, cur.rec.ExpiresAt, now, sa, org), nil
	}
	// Only the first caller's function runs; it alone may have minted.
	leader := false
	ch := a.issuer.group.DoChan(memoKey(sa.ID, jkt), func() (any, error) {
		leader = true
		return a.issuer.mint(trace.SpanContextFromContext(ctx), ac)
	})
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.Err != nil {
		return nil, r.Err
	}
	res := r.Val.(*mintResult)
	if !leader || !res.minted {
		a.metrics.reused.Inc()
	}
	return oauth.NewTokenResponse(res.cur.token, jkt, res.cur.rec.ExpiresAt, a.clock.Now(), &res.sa, &res.org), nil
}

// mintResult is what a mint job ended with: the token to answer with, the
// account and org as the transaction read them, and whether it is new.
type mintResult struct {
	cur    *issued
	sa     tollgate.ServiceAccount
	org    tollgate.Org
	minted bool
}

// mintJob is one account's mint waiting for the committer. Its token is
// signed and sealed before it queues, so that this CPU work runs in
// parallel on every core while only the database writes are serialized.
type mintJob struct {
	ac     Actor
	signer *keys.Signer
	claims oauth.Claims
	token  string
	sealed []byte
	// caller is the span of the request that asked, which the batch's
	// span links to.
	caller trace.SpanContext

	res  *mintResult
	err  error
	done chan struct{}
}

// mint prepares a token for ac's account and hands it to the committer,
// which decides in a transaction whether it is needed (another process may
// have minted meanwhile) and stores it. It runs on its own context, not
// the request's: the callers that wait for it each stop waiting on their
// own.
func (is *issuer) mint(caller trace.SpanContext, ac Actor) (*mintResult, error) {
	start := time.Now()
	defer func() { is.a.metrics.mint.Observe(time.Since(start).Seconds()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The signer is fetched first: refreshing the keys needs the database,
	// which must not be asked for from inside the transaction.
	signer, err := is.a.cfg.Signing.Signer(ctx)
	if err != nil {
		return nil, err
	}
	j := &mintJob{ac: ac, signer: signer, caller: caller, done: make(chan struct{})}
	if err := is.prepare(j, ac.Credential.Account); err != nil {
		return nil, err
	}
	closed := errors.New("app: the token endpoint is closed")
	select {
	case is.jobs <- j:
	case <-is.quit:
		return nil, closed
	}
	select {
	case <-j.done:
	case <-is.stopped:
		select {
		case <-j.done: // committed as the committer stopped
		default:
			return nil, closed // queued after the committer's last batch
		}
	}
	return j.res, j.err
}

// prepare signs and seals a new token for sa as it is known now.
func (is *issuer) prepare(j *mintJob, sa *tollgate.ServiceAccount) error {
	now := tollgate.Timestamp(is.a.clock.Now())
	j.claims = oauth.NewClaims(is.a.cfg.Issuer, is.a.cfg.Audience, sa, now, tollgate.NewID(tollgate.PrefixAccessToken, now), j.ac.Credential.JKT)
	payload, err := j.claims.Marshal()
	if err != nil {
		return err
	}
	if j.token, err = j.signer.Sign(payload); err != nil {
		return err
	}
	j.sealed = is.a.cfg.Keyring.Seal([]byte(j.token), j.claims.ID)
	return nil
}

// commitLoop is the committer: it takes the queued mint jobs, up to
// maxBatch at a time, and runs them in one transaction (group commit). It
// never waits to fill a batch: a batch is whatever queued while the
// previous one was committing, so an idle server commits each mint alone.
func (is *issuer) commitLoop() {
	defer close(is.stopped)
	for {
		var batch []*mintJob
		select {
		case <-is.quit:
			return
		case j := <-is.jobs:
			batch = append(batch, j)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-is.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		is.commit(batch)
	}
}

// commit runs a batch in one transaction. A refusal that concerns one job
// (its account was disabled or deleted meanwhile) fails that job only. A
// database error fails the transaction; the jobs of a failed batch are then
// committed one by one, so that one member's failure does not take the
// others with it; not after a timeout or a shutdown, which would only wait
// once per member.
func (is *issuer) commit(batch []*mintJob) {
	is.a.metrics.batchSize.Observe(float64(len(batch)))
	err := is.commitTx(batch)
	if err != nil && len(batch) > 1 && is.ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
		for _, j := range batch {
			is.finish(j, is.commitTx([]*mintJob{j}))
		}
		return
	}
	for _, j := range batch {
		is.finish(j, err)
	}
}

func (is *issuer) commitTx(batch []*mintJob) error {
	ctx, cancel := context.WithTimeout(is.ctx, 30*time.Second)
	defer cancel()
	// The batch serves many requests: its span is a root that links to
	// each of theirs.
	links := make([]trace.Link, 0, len(batch))
	for _, j := range batch {
		if j.caller.IsValid() {
			links = append(links, trace.Link{SpanContext: j.caller})
		}
	}
	ctx, span := tracer.Start(ctx, "app.commitMints", trace.WithNewRoot(), trace.WithLinks(links...),
		trace.WithAttributes(attribute.Int("tollgate.batch_size", len(batch))))
	defer span.End()
	return is.a.store.InTx(ctx, func(tq tollgate.Queries) error {
		q := &webhooksMemo{Queries: tq, orgs: map[string][]tollgate.Webhook{}}
		for _, j := range batch {
			j.res, j.err = nil, nil
			refusal, err := is.mintInTx(ctx, q, j)
			if err != nil {
				return err
			}
			j.err = refusal
		}
		return nil
	})
}

// finish ends a job: with the transaction's error if it failed, else with
// its own result, which the memo keeps.
func (is *issuer) finish(j *mintJob, txErr error) {
	if txErr != nil {
		j.res, j.err = nil, txErr
	}
	if j.err == nil {
		if j.res.minted {
			is.a.metrics.issued.Inc()
		}
		j.res.cur.loadedAt = is.a.clock.Now()
		is.remember(memoKey(j.res.sa.ID, j.ac.Credential.JKT), j.res.cur)
	}
	close(j.done)
}

// webhooksMemo reads each org's webhooks once in a transaction: every
// mint of a batch is audited, and each audit event looks up the webhooks
// that want it (enqueue), which cannot change under the transaction.
type webhooksMemo struct {
	tollgate.Queries
	orgs map[string][]tollgate.Webhook
}

func (m *webhooksMemo) ListWebhooks(ctx context.Context, orgID string) ([]tollgate.Webhook, error) {
	if hooks, ok := m.orgs[orgID]; ok {
		return hooks, nil
	}
	hooks, err := m.Queries.ListWebhooks(ctx, orgID)
	if err == nil {
		m.orgs[orgID] = hooks
	}
	return hooks, err
}

// mintInTx reads the account, its org and its latest token again inside
// the transaction, reuses that token if it may, and otherwise stores
// (sealed) and audits the job's new token. A refusal of this job alone is
// returned first, before the job writes anything; err fails the
// transaction.
func (is *issuer) mintInTx(ctx context.Context, q tollgate.Queries, j *mintJob) (refusal, err error) {
	sa, err := q.GetServiceAccountByID(ctx, j.claims.Subject)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return oauth.Fail(oauth.CodeInvalidClient, "client authentication failed"), nil
	} else if err != nil {
		return nil, err
	}
	if sa.Status != tollgate.StatusActive {
		return oauth.Fail(oauth.CodeInvalidClient, "this service account is disabled"), nil
	}
	org, err := q.GetOrg(ctx, sa.OrgID)
	if err != nil {
		return nil, err
	}
	now := is.a.clock.Now()
	j.res = &mintResult{sa: *sa, org: *org}
	if rec, err := q.LatestAccessToken(ctx, sa.ID, j.ac.Credential.JKT); err == nil {
		cur, err := is.unseal(rec, now)
		if err != nil {
			return nil, err
		}
		if is.a.reusable(cur, sa, org, now) {
			j.res.cur = cur
			return nil, nil
		}
	} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
		return nil, err
	}
	if !j.claims.Matches(sa) {
		// This process's view of the account was stale: sign again.
		if err := is.prepare(j, sa); err != nil {
			return nil, err
		}
	}
	c := j.ac.Credential
	rec := tollgate.AccessToken{ID: j.claims.ID, OrgID: org.ID, ServiceAccountID: sa.ID, SecretID: c.ID, KeyID: j.signer.KeyID(),
		IssuedAt:  tollgate.Timestamp(now), // committed now; iat is when it was signed, a moment ago
		ExpiresAt: j.claims.ExpiresAt(), Sealed: j.sealed, JKT: c.JKT}
	if err := q.CreateAccessToken(ctx, &rec); err != nil {
		return nil, err
	}
	j.res.cur, j.res.minted = &issued{rec: rec, token: j.token, claims: j.claims}, true
	actor := Actor{Type: tollgate.PrincipalServiceAccount, ID: sa.ID, Name: sa.Name, IP: j.ac.IP, UserAgent: j.ac.UserAgent}
	return nil, is.a.audit(ctx, q, actor, org.ID, tollgate.ActionAccessTokenIssued,
		tollgate.Principal{Type: tollgate.PrincipalAccessToken, ID: rec.ID, Name: sa.Name},
		issuedDetails(&rec, c))
}

// issuedDetails are the details of an access_token.issued event: the
// token's expiry and signing key, how the client authenticated (K2: the
// method, the credential, and a federated token's iss and sub), and the
// DPoP key it is bound to.
func issuedDetails(rec *tollgate.AccessToken, c *Credential) map[string]any {
	method := oauth.AuditMethod(c.Method)
	d := map[string]any{"expires_at": rec.ExpiresAt, "key_id": rec.KeyID, "method": method, "credential_id": c.ID}
	switch method {
	case oauth.MethodClientSecret:
		d["secret_id"] = c.ID
	case oauth.MethodFederated:
		d["external_iss"], d["external_sub"] = c.ExternalIssuer, c.ExternalSubject
	}
	if rec.JKT != "" {
		d["jkt"] = rec.JKT
	}
	return d
}

// Introspect answers RFC 7662 for caller, an authenticated client, about
// subject, the credential the token parameter named (nil when it named
// none that is live). A token is active only if it is an access token of
// this server, unexpired and unrevoked, whose account exists and is
// enabled (S7, S8), and which belongs to the caller's organization (T7).
// Its role is the account's current one.
func (a *App) Introspect(ctx context.Context, caller Actor, subject *Credential) (oauth.Introspection, error) {
	_, span := tracer.Start(ctx, "app.Introspect")
	defer span.End()
	_, org, err := client(caller)
	if err != nil {
		return oauth.Inactive, err
	}
	if subject == nil || subject.Kind != tollgate.CredentialAccessToken || subject.Claims == nil || subject.Account == nil || subject.OrgID != org.ID {
		return oauth.Inactive, nil
	}
	return oauth.Active(subject.Claims, subject.Account, subject.Role), nil
}

// RevokeAccessToken answers RFC 7009 for caller, an authenticated client:
// it revokes subject if it is an access token issued to the caller. Any
// other token, live or not (nil), is answered the same way, with success,
// so that nothing is learnt. Revoking an account's current token stops its
// reuse: the next token request mints a new one.
func (a *App) RevokeAccessToken(ctx context.Context, caller Actor, subject *Credential) error {
	ctx, span := tracer.Start(ctx, "app.RevokeAccessToken")
	defer span.End()
	sa, _, err := client(caller)
	if err != nil {
		return err
	}
	if subject == nil || subject.Kind != tollgate.CredentialAccessToken || subject.Claims == nil || subject.Account == nil || subject.Account.ID != sa.ID {
		return nil
	}
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		now := a.now()
		if err := q.RevokeAccessToken(ctx, subject.ID, now); err != nil {
			return err
		}
		latest, err := q.LatestAccessToken(ctx, sa.ID, subject.Claims.JKT())
		if err != nil {
			return err
		}
		owner, err := q.GetServiceAccountByID(ctx, sa.ID)
		if err != nil {
			return err
		}
		if latest.ID == subject.ID {
			owner.ReuseAfter = now
			if err := q.UpdateServiceAccount(ctx, owner); err != nil {
				return err
			}
		}
		actor := Actor{Type: tollgate.PrincipalServiceAccount, ID: owner.ID, Name: owner.Name, IP: caller.IP, UserAgent: caller.UserAgent}
		return a.audit(ctx, q, actor, owner.OrgID, tollgate.ActionAccessTokenRevoked,
			tollgate.Principal{Type: tollgate.PrincipalAccessToken, ID: subject.ID, Name: owner.Name}, nil)
	})
	if err != nil {
		return err
	}
	a.changed(ctx, tollgate.CredentialChanged(subject.Hash), tollgate.ServiceAccountChanged(sa.ID))
	return nil
}
