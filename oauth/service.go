package oauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/keys"
	"golang.org/x/sync/singleflight"
)

// Config configures the token service.
type Config struct {
	// Issuer is the iss of access tokens and the base of endpoint URLs.
	Issuer string
	// Audience is the aud of access tokens (default: Issuer).
	Audience string
	// CacheTTL bounds how long a process trusts what it cached about a
	// client (account, secrets, current token) before reading it again
	// (default 1 s): the longest a change made by another replica can go
	// unseen here. Changes made through this process are seen at once.
	CacheTTL time.Duration
	// UsageFlushEvery is how often last-used times are written (default
	// 5 s; the API shows a use within that).
	UsageFlushEvery time.Duration
	// Broadcaster, when set, carries cache invalidations to the other
	// processes sharing the database (PostgreSQL LISTEN/NOTIFY), so that a
	// revocation is refused everywhere within moments instead of CacheTTL.
	Broadcaster tollgate.Broadcaster
}

// Service issues, introspects and revokes access tokens.
type Service struct {
	store   tollgate.Store
	keys    *keys.Manager
	keyring *credential.Keyring
	clock   tollgate.Clock
	cfg     Config
	metrics *Metrics
	log     *slog.Logger

	mu        sync.Mutex
	clients   map[string]*client
	creds     map[string]*credEntry // by keyed hash of the bearer string
	preflight map[string]preflightEntry
	mint      singleflight.Group

	jobs    chan *mintJob
	quit    chan struct{}
	stopped chan struct{}
	flushed chan struct{}
	// listened is closed when the invalidation listener has stopped.
	listened     chan struct{}
	stopListener context.CancelFunc
	close        sync.Once
	usage        usage // guarded by mu
}

// maxCachedClients bounds the client cache.
const maxCachedClients = 100_000

// client is what the service knows about one service account.
type client struct {
	loadedAt time.Time
	sa       tollgate.ServiceAccount
	org      tollgate.Org
	secrets  []tollgate.ClientSecret
	current  *issued // the account's latest token, or nil
}

// issued is an access token with its plain string (held only in memory).
type issued struct {
	rec   tollgate.AccessToken
	token string
}

// NewService returns a token service.
func NewService(store tollgate.Store, km *keys.Manager, keyring *credential.Keyring, clock tollgate.Clock, cfg Config, m *Metrics, log *slog.Logger) *Service {
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Second
	}
	if cfg.UsageFlushEvery == 0 {
		cfg.UsageFlushEvery = 5 * time.Second
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	s := &Service{store: store, keys: km, keyring: keyring, clock: clock, cfg: cfg, metrics: m, log: log, clients: map[string]*client{}, creds: map[string]*credEntry{}, preflight: map[string]preflightEntry{},
		jobs: make(chan *mintJob, maxBatch), quit: make(chan struct{}), stopped: make(chan struct{}), flushed: make(chan struct{}),
		usage: usage{tokens: map[string]tokenUse{}, accounts: map[string]time.Time{}}}
	go s.commitLoop()
	go s.flushLoop()
	s.listened = make(chan struct{})
	if cfg.Broadcaster != nil {
		var ctx context.Context
		ctx, s.stopListener = context.WithCancel(context.Background())
		go s.listen(ctx)
	} else {
		close(s.listened)
	}
	return s
}

// Close stops the committer after the batch it is running (mints asked
// for after Close fail) and writes the last-used times still in memory.
// Call it after the HTTP server has finished its requests.
func (s *Service) Close() {
	s.close.Do(func() {
		close(s.quit)
		if s.stopListener != nil {
			s.stopListener()
		}
	})
	<-s.stopped
	<-s.flushed
	<-s.listened
}

// Forget drops what this process cached about a service account, so that
// the next request reads it again. The admin use cases call it after every
// change to an account.
func (s *Service) Forget(serviceAccountID string) {
	s.mu.Lock()
	delete(s.clients, serviceAccountID)
	for k, e := range s.creds { // admin changes are rare; the cache is bounded
		if e.owner == serviceAccountID {
			delete(s.creds, k)
		}
	}
	s.mu.Unlock()
}

// client returns the cached state of a service account, reading it from
// the store when absent or older than CacheTTL. ENotFound for an unknown ID.
func (s *Service) client(ctx context.Context, id string) (*client, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c != nil && now.Sub(c.loadedAt) < s.cfg.CacheTTL {
		return c, nil
	}
	if !tollgate.HasPrefix(id, tollgate.PrefixServiceAccount) {
		return nil, tollgate.Errorf(tollgate.ENotFound, "no such client")
	}
	sa, err := s.store.GetServiceAccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	org, err := s.store.GetOrg(ctx, sa.OrgID)
	if err != nil {
		return nil, err
	}
	secrets, err := s.store.ListClientSecrets(ctx, id)
	if err != nil {
		return nil, err
	}
	c = &client{loadedAt: now, sa: *sa, org: *org, secrets: secrets}
	if rec, err := s.store.LatestAccessToken(ctx, id); err == nil {
		if c.current, err = s.unseal(rec); err != nil {
			return nil, err
		}
	} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
		return nil, err
	}
	s.remember(c)
	return c, nil
}

func (s *Service) remember(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) >= maxCachedClients {
		for k := range s.clients { // map order is random: evict a random tenth
			delete(s.clients, k)
			if len(s.clients) < maxCachedClients*9/10 {
				break
			}
		}
	}
	s.clients[c.sa.ID] = c
}

func (s *Service) unseal(rec *tollgate.AccessToken) (*issued, error) {
	tok, err := s.keyring.Open(rec.Sealed, rec.ID)
	if err != nil {
		return nil, fmt.Errorf("oauth: access token %s: %w", rec.ID, err)
	}
	return &issued{rec: *rec, token: string(tok)}, nil
}

// authenticate checks client credentials (RFC 6749 §2.3.1). A secret
// whose checksum is wrong is refused before any look-up (C5); the keyed
// hash is compared with every live secret in constant time (C2). A
// disabled account cannot authenticate (S7).
func (s *Service) authenticate(ctx context.Context, cred ClientCredentials) (*client, *tollgate.ClientSecret, error) {
	basic := cred.Method == AuthBasic
	bad := invalidClient("client authentication failed", basic)
	if !credential.ValidCredential(credential.PrefixClientSecret, cred.Secret) {
		return nil, nil, bad
	}
	c, err := s.client(ctx, cred.ID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, bad
	} else if err != nil {
		return nil, nil, err
	}
	h := s.keyring.Hash(cred.Secret)
	now := s.clock.Now()
	var match *tollgate.ClientSecret
	for i := range c.secrets {
		if hmac.Equal(h, c.secrets[i].Hash) && c.secrets[i].LiveAt(now) {
			match = &c.secrets[i]
		}
	}
	if match == nil {
		return nil, nil, bad
	}
	if c.sa.Status != tollgate.StatusActive {
		return nil, nil, invalidClient("this service account is disabled", basic)
	}
	return c, match, nil
}

// TokenResponse is the answer of the token endpoint (RFC 6749 §5.1, T4).
type TokenResponse struct {
	AccessToken    string                 `json:"access_token"`
	TokenType      string                 `json:"token_type"`
	ExpiresIn      int64                  `json:"expires_in"`
	Scope          string                 `json:"scope"`
	ServiceAccount ServiceAccountIdentity `json:"service_account"`
}

// ServiceAccountIdentity describes the account a token was issued to.
type ServiceAccountIdentity struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	OrgID   string `json:"org_id"`
	OrgSlug string `json:"org_slug"`
	Role    string `json:"role"`
}

// Caller is where a request came from, for the audit log.
type Caller struct {
	IP        string
	UserAgent string
}

// Token answers a client credentials token request: the account's current
// token while it may be reused (T2, T2a), else a newly minted one.
func (s *Service) Token(ctx context.Context, req TokenRequest, from Caller) (*TokenResponse, error) {
	c, secret, err := s.authenticate(ctx, req.Client)
	if err != nil {
		return nil, err
	}
	// T1a: the only scope is the account's role.
	if req.Scope != "" && req.Scope != string(c.sa.Role) {
		return nil, &Error{Code: ErrInvalidScope, Status: 400,
			Description: "the only scope this account can request is its role, " + string(c.sa.Role) + "; or leave scope out"}
	}
	now := s.clock.Now()
	if reusable(c.current, &c.sa, &c.org, now) {
		s.metrics.reused.Inc()
		return s.response(c, c.current, now), nil
	}
	// Concurrent requests for one account share one mint; only the leader
	// runs the function, and only a leader that minted did not reuse.
	leader := false
	v, err, _ := s.mint.Do(c.sa.ID, func() (any, error) {
		leader = true
		return s.mintOrReuse(ctx, c, secret, from)
	})
	if err != nil {
		return nil, err
	}
	res := v.(*mintResult)
	if !leader || !res.minted {
		s.metrics.reused.Inc()
	}
	return s.response(res.client, res.client.current, s.clock.Now()), nil
}

// reusable reports whether cur may be handed out again at now: not
// revoked, issued after the account's last disable, rotation or role
// change, and with more time left than the org's reuse floor (and some).
func reusable(cur *issued, sa *tollgate.ServiceAccount, org *tollgate.Org, now time.Time) bool {
	if cur == nil || cur.rec.RevokedAt != nil || cur.rec.IssuedAt.Before(sa.ReuseAfter) {
		return false
	}
	left := cur.rec.ExpiresAt.Sub(now)
	return left > 0 && left >= time.Duration(org.Settings.TokenReuseFloorSeconds)*time.Second
}

func (s *Service) response(c *client, cur *issued, now time.Time) *TokenResponse {
	return &TokenResponse{
		AccessToken: cur.token, TokenType: "Bearer", ExpiresIn: int64(cur.rec.ExpiresAt.Sub(now) / time.Second), Scope: string(c.sa.Role),
		ServiceAccount: ServiceAccountIdentity{ID: c.sa.ID, Name: c.sa.Name, Email: c.sa.Email, OrgID: c.org.ID, OrgSlug: c.org.Slug, Role: string(c.sa.Role)},
	}
}

// Claims are the claims of an access token (RFC 9068 §2.2), in a fixed
// order so that their JSON is the same on every replica.
type Claims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	OrgID    string `json:"org_id"`
	Role     string `json:"role"`
	Scope    string `json:"scope"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

// mintResult is the outcome of mintOrReuse.
type mintResult struct {
	client *client
	minted bool
}

// mintJob is one account's mint request waiting for the committer. The
// token is signed and sealed before it queues, so that this CPU work runs
// in parallel on every core while only the database writes are serialized.
type mintJob struct {
	c      *client
	secret *tollgate.ClientSecret
	from   Caller
	signer *keys.Signer
	claims Claims
	token  string
	sealed []byte

	res  *mintResult
	err  error
	done chan struct{}
}

// maxBatch bounds how many mints share one transaction.
const maxBatch = 64

// mintOrReuse prepares a token for c and hands it to the committer, which
// decides in a transaction whether it is needed (another process may have
// minted meanwhile) and stores it. It returns the refreshed client state
// and whether it minted.
func (s *Service) mintOrReuse(ctx context.Context, c *client, secret *tollgate.ClientSecret, from Caller) (*mintResult, error) {
	// The signer is fetched first: refreshing the keys needs the database,
	// which must not be asked for from inside the transaction.
	signer, err := s.keys.Signer(ctx)
	if err != nil {
		return nil, err
	}
	j := &mintJob{c: c, secret: secret, from: from, signer: signer, done: make(chan struct{})}
	if err := s.prepare(j, &c.sa, c.org.ID); err != nil {
		return nil, err
	}
	select {
	case s.jobs <- j:
	case <-s.quit:
		return nil, errors.New("oauth: the token service is closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if j.err != nil {
		return nil, j.err
	}
	return j.res, nil
}

// prepare signs and seals a new token for sa as it is known now.
func (s *Service) prepare(j *mintJob, sa *tollgate.ServiceAccount, orgID string) error {
	now := tollgate.Timestamp(s.clock.Now())
	iat := now.Unix()
	j.claims = Claims{Issuer: s.cfg.Issuer, Subject: sa.ID, Audience: s.cfg.Audience, ClientID: sa.ID, OrgID: orgID,
		Role: string(sa.Role), Scope: string(sa.Role), IssuedAt: iat, Expiry: iat + int64(sa.TokenTTLSeconds),
		ID: tollgate.NewID(tollgate.PrefixAccessToken, now)}
	payload, err := json.Marshal(j.claims)
	if err != nil {
		return err
	}
	if j.token, err = j.signer.Sign(payload); err != nil {
		return err
	}
	j.sealed = s.keyring.Seal([]byte(j.token), j.claims.ID)
	return nil
}

// commitLoop is the committer: it takes the queued mint jobs, up to
// maxBatch at a time, and runs them in one transaction (group commit). It
// never waits to fill a batch: a batch is whatever queued while the
// previous one was committing, so an idle server commits each mint alone.
func (s *Service) commitLoop() {
	defer close(s.stopped)
	for {
		var batch []*mintJob
		select {
		case <-s.quit:
			return
		case j := <-s.jobs:
			batch = append(batch, j)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. An error that concerns one job
// (its account was disabled or deleted meanwhile) fails that job only; a
// database error fails the batch.
func (s *Service) commit(batch []*mintJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.store.InTx(ctx, func(q tollgate.Queries) error {
		for _, j := range batch {
			j.res, j.err = nil, nil
			if err := s.mintInTx(ctx, q, j); err != nil {
				var oe *Error
				if !errors.As(err, &oe) {
					return err
				}
				j.err = err
			}
		}
		return nil
	})
	now := s.clock.Now()
	for _, j := range batch {
		if err != nil {
			j.err = err
		}
		if j.err == nil {
			if j.res.minted {
				s.metrics.issued.Inc()
			}
			j.res.client.loadedAt = now
			s.remember(j.res.client)
		}
		close(j.done)
	}
}

// mintInTx reads the account, its org and its latest token again inside
// the transaction, reuses that token if it may, and otherwise stores
// (sealed) and audits the job's new token.
func (s *Service) mintInTx(ctx context.Context, q tollgate.Queries, j *mintJob) error {
	sa, err := q.GetServiceAccountByID(ctx, j.c.sa.ID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return invalidClient("client authentication failed", false)
	} else if err != nil {
		return err
	}
	if sa.Status != tollgate.StatusActive {
		return invalidClient("this service account is disabled", false)
	}
	org, err := q.GetOrg(ctx, sa.OrgID)
	if err != nil {
		return err
	}
	fresh := &client{sa: *sa, org: *org, secrets: j.c.secrets}
	j.res = &mintResult{client: fresh}
	now := s.clock.Now()
	if rec, err := q.LatestAccessToken(ctx, sa.ID); err == nil {
		cur, err := s.unseal(rec)
		if err != nil {
			return err
		}
		if reusable(cur, sa, org, now) {
			fresh.current = cur
			return nil
		}
	} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
		return err
	}
	if j.claims.Role != string(sa.Role) || j.claims.Expiry-j.claims.IssuedAt != int64(sa.TokenTTLSeconds) {
		// This process's view of the account was stale: sign again.
		if err := s.prepare(j, sa, org.ID); err != nil {
			return err
		}
	}
	issuedAt := tollgate.Timestamp(now) // committed now; iat is when it was signed, a moment ago
	rec := tollgate.AccessToken{ID: j.claims.ID, OrgID: org.ID, ServiceAccountID: sa.ID, SecretID: j.secret.ID, KeyID: j.signer.KeyID(),
		IssuedAt: issuedAt, ExpiresAt: time.Unix(j.claims.Expiry, 0).UTC(), Sealed: j.sealed}
	if err := q.CreateAccessToken(ctx, &rec); err != nil {
		return err
	}
	fresh.current = &issued{rec: rec, token: j.token}
	j.res.minted = true
	return q.AppendAuditEvent(ctx, tollgate.NewAuditEvent(now, org.ID, saPrincipal(sa), tollgate.ActionAccessTokenIssued,
		tollgate.Principal{Type: "access_token", ID: rec.ID, Name: sa.Name}, j.from.IP, j.from.UserAgent,
		map[string]any{"expires_at": rec.ExpiresAt, "key_id": rec.KeyID, "secret_id": j.secret.ID}))
}

func saPrincipal(sa *tollgate.ServiceAccount) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: sa.ID, Name: sa.Name}
}

// verify checks an access token's signature against the published keys,
// its type, issuer and expiry, and returns its claims; ok is false for
// anything that is not a valid, unexpired access token of this server.
func (s *Service) verify(ctx context.Context, token string) (*Claims, bool, error) {
	head, _, found := strings.Cut(token, ".")
	if !found || len(token) > 8192 {
		return nil, false, nil
	}
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, false, nil
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != keys.Algorithm || h.Typ != "at+jwt" || h.Kid == "" {
		return nil, false, nil
	}
	pub, ok, err := s.keys.PublicKey(ctx, h.Kid)
	if err != nil || !ok {
		return nil, false, err
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.EdDSA(), pub))
	if err != nil {
		return nil, false, nil
	}
	var cl Claims
	dec := json.NewDecoder(bytes.NewReader(payload))
	if dec.Decode(&cl) != nil || cl.Issuer != s.cfg.Issuer || cl.ID == "" || s.clock.Now().Unix() >= cl.Expiry {
		return nil, false, nil
	}
	return &cl, true, nil
}
