package tollgate

import (
	"context"
	"time"
)

// Store is the persistence of Tollgate. SQLite and PostgreSQL implement it,
// and store/storetest checks both against the same contract.
//
// Stores do no authorization and no tenant filtering beyond the orgID their
// methods take: the app package decides who may do what.
type Store interface {
	Queries
	Broadcaster

	// InTx runs fn in one serializable transaction and commits it if fn
	// returns nil. fn may be called more than once when the database asks
	// for a retry (a serialization conflict), so it must have no effect
	// outside q. Inside fn, use only q: calling the Store itself would
	// wait for the transaction.
	InTx(ctx context.Context, fn func(q Queries) error) error

	// LoadBulk inserts b's rows in one transaction: all or none. It is the
	// seed's bulk path (batched prepared inserts on SQLite, COPY on
	// PostgreSQL), never a use case's: it writes no audit event of its own
	// and broadcasts nothing. A row that exists already is EConflict.
	LoadBulk(ctx context.Context, b *Bulk) error

	// ClaimWebhookDeliveries takes up to limit pending deliveries due at
	// now, in a transaction other processes skip past (FOR UPDATE SKIP
	// LOCKED on PostgreSQL), so that each is sent by one process: each
	// one's attempts grow by one and it is not due again until leaseUntil,
	// so a process that dies while sending leaves it to be retried. It
	// returns them with their URL, sealed secret and payload.
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]WebhookSend, error)

	// RecordUses writes u in one transaction: each credential's last use
	// (and a token's origin) where it is later than the one stored. A
	// credential deleted meanwhile is skipped. It sorts u (Uses.Sort).
	RecordUses(ctx context.Context, u *Uses) error

	// Ping returns an error unless the database answers.
	Ping(ctx context.Context) error

	// Close releases the store's connections.
	Close() error
}

// Queries are the store's reads and writes. Every time written is stored in
// UTC to the microsecond (see Timestamp) and read back in UTC.
//
// Error contract, for every method: ENotFound when the row named does not
// exist (or a row it refers to does not); EConflict when a unique rule would
// be broken; any other error is internal.
type Queries interface {
	// CreateOrg inserts o. EConflict if the slug is taken.
	CreateOrg(ctx context.Context, o *Org) error
	// GetOrg returns the org with that ID. ENotFound.
	GetOrg(ctx context.Context, id string) (*Org, error)
	// GetOrgBySlug returns the org with that slug. ENotFound.
	GetOrgBySlug(ctx context.Context, slug string) (*Org, error)
	// UpdateOrg writes o's name and settings. ENotFound.
	UpdateOrg(ctx context.Context, o *Org) error
	// CreateWebhook inserts w. ENotFound if the org does not exist.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns the org's webhook with that ID. ENotFound.
	GetWebhook(ctx context.Context, orgID, id string) (*Webhook, error)
	// ListWebhooks returns the org's webhooks, oldest first (an org has at
	// most MaxWebhooksPerOrg).
	ListWebhooks(ctx context.Context, orgID string) ([]Webhook, error)
	// UpdateWebhook writes w's URL, events and description. ENotFound.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes the webhook with its deliveries. ENotFound.
	DeleteWebhook(ctx context.Context, orgID, id string) error
	// EnqueueWebhookMessage writes m to the outbox with a pending delivery
	// due at once for each webhook named (nothing when none is).
	EnqueueWebhookMessage(ctx context.Context, m *WebhookMessage, webhookIDs []string) error
	// ListWebhookDeliveries returns a page of the webhook's deliveries,
	// newest first, each with its attempts (History).
	ListWebhookDeliveries(ctx context.Context, webhookID string, p Page) ([]WebhookDelivery, string, error)
	// RecordWebhookAttempt writes an attempt and the delivery's status
	// after it. ENotFound if the delivery is gone (its webhook deleted).
	RecordWebhookAttempt(ctx context.Context, r *WebhookResult) error
	// DeleteWebhookHistoryBefore removes the messages written before t
	// with their deliveries and attempts (long past the 24 hours a
	// delivery is tried), and the notices marked before t, and returns how
	// many messages went.
	DeleteWebhookHistoryBefore(ctx context.Context, t time.Time) (int, error)
	// MarkNotice records that the notice kind of subject (a token's or a
	// secret's ID) was sent, and reports false if it had been already.
	MarkNotice(ctx context.Context, subjectID, kind string, at time.Time) (bool, error)
	// ListExpiringTokens returns up to limit API tokens (ID, org, name,
	// expiry) expiring in (from, to] that have no notice kind yet, soonest
	// first, through the index on expires_at.
	ListExpiringTokens(ctx context.Context, from, to time.Time, kind string, limit int) ([]APIToken, error)
	// ListEndingSecrets returns up to limit client secrets expiring in
	// (from, to] that have no notice kind yet, soonest first.
	ListEndingSecrets(ctx context.Context, from, to time.Time, kind string, limit int) ([]ClientSecret, error)

	// FindPolicyViolations returns, for each rule in order, how many of the
	// org's credentials break it (API tokens alive at now only) and the
	// first limit of them, oldest first (PolicyViolation). It reads each
	// rule's rows through the org's index: bounded by the org's size.
	FindPolicyViolations(ctx context.Context, orgID string, rules []ViolationQuery, now time.Time, limit int) ([]PolicyViolation, error)

	// CreateUser inserts u. EConflict if the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with that ID. ENotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail returns the user with that (normalized) email. ENotFound.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// HasUsers reports whether any user exists (bootstrap sets up only an
	// empty database). It reads one index entry, whatever the count.
	HasUsers(ctx context.Context) (bool, error)

	// CreateMember inserts m. EConflict if the user is already a member;
	// ENotFound if the org or the user does not exist.
	CreateMember(ctx context.Context, m *Member) error
	// GetMember returns the membership. ENotFound.
	GetMember(ctx context.Context, orgID, userID string) (*Member, error)
	// GetMemberView returns the membership as listed. ENotFound.
	GetMemberView(ctx context.Context, orgID, userID string) (*MemberView, error)
	// ListMembers returns the org's members matching f ordered by join
	// time, then user ID (by email when f.Query is set), and the cursor of
	// the next page ("" after the last). A cursor of the other order is
	// EInvalid.
	ListMembers(ctx context.Context, orgID string, f MemberFilter, p Page) ([]MemberView, string, error)
	// UpdateMemberRole sets the member's role. ENotFound.
	UpdateMemberRole(ctx context.Context, orgID, userID string, role Role) error
	// DeleteMember removes the membership (the user stays). ENotFound.
	DeleteMember(ctx context.Context, orgID, userID string) error
	// CountMembersWithRole counts the org's members holding role.
	CountMembersWithRole(ctx context.Context, orgID string, role Role) (int, error)
	// ListMemberships returns every org the user belongs to, by org slug.
	ListMemberships(ctx context.Context, userID string) ([]Membership, error)

	// CreateInvitation inserts inv, replacing any invitation not yet
	// accepted for the same org and email. ENotFound if the org does not
	// exist.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// GetInvitationByTokenHash returns the invitation. ENotFound.
	GetInvitationByTokenHash(ctx context.Context, hash []byte) (*Invitation, error)
	// AcceptInvitation marks the invitation accepted at t. EConflict if it
	// was accepted already; ENotFound.
	AcceptInvitation(ctx context.Context, id string, t time.Time) error

	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session with that ID hash. ENotFound.
	GetSession(ctx context.Context, idHash []byte) (*Session, error)
	// TouchSession sets the session's last-seen time. ENotFound.
	TouchSession(ctx context.Context, idHash []byte, t time.Time) error
	// DeleteSession removes the session. ENotFound.
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessionsBefore removes sessions whose absolute expiry is
	// before expiredBefore, and browser sessions last seen before
	// idleBefore (CLI sessions have no idle rule), and returns how many.
	DeleteSessionsBefore(ctx context.Context, expiredBefore, idleBefore time.Time) (int, error)
	// ListSessions returns the user's sessions, newest first.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteSessionByID removes the user's session with that public ID.
	// ENotFound, also for another user's session.
	DeleteSessionByID(ctx context.Context, userID, id string) error

	// CreateDeviceAuthorization inserts d. EConflict if its device or
	// user code hash is taken (draw new codes).
	CreateDeviceAuthorization(ctx context.Context, d *DeviceAuthorization) error
	// GetDeviceAuthorizationByDeviceCode returns the authorization with
	// that device code hash. ENotFound.
	GetDeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	// GetDeviceAuthorizationByUserCode returns the authorization with that
	// user code hash. ENotFound.
	GetDeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	// PollDeviceAuthorization records a poll at t and the interval the
	// next must wait. ENotFound.
	PollDeviceAuthorization(ctx context.Context, id string, t time.Time, interval time.Duration) error
	// DecideDeviceAuthorization moves a pending authorization to status
	// (approved or denied) by userID at t. EConflict unless it is pending;
	// ENotFound.
	DecideDeviceAuthorization(ctx context.Context, id string, status DeviceStatus, userID string, t time.Time) error
	// RedeemDeviceAuthorization moves an approved authorization to
	// redeemed. EConflict unless it is approved (of two concurrent
	// redemptions, one wins); ENotFound.
	RedeemDeviceAuthorization(ctx context.Context, id string) error
	// DeleteDeviceAuthorizationsBefore removes authorizations that expired
	// before t, and returns how many.
	DeleteDeviceAuthorizationsBefore(ctx context.Context, t time.Time) (int, error)

	// AppendAuditEvent inserts e. Events are never changed or deleted.
	AppendAuditEvent(ctx context.Context, e *AuditEvent) error
	// ListAuditEvents returns the org's events matching f, newest first
	// (time, then ID, descending), and the cursor of the next page.
	ListAuditEvents(ctx context.Context, orgID string, f AuditFilter, p Page) ([]AuditEvent, string, error)

	// CreateServiceAccount inserts sa. EConflict if the org has an account
	// with the same name ignoring case; ENotFound if the org does not exist.
	CreateServiceAccount(ctx context.Context, sa *ServiceAccount) error
	// GetServiceAccount returns the org's service account. ENotFound,
	// also when the account belongs to another org.
	GetServiceAccount(ctx context.Context, orgID, id string) (*ServiceAccount, error)
	// GetServiceAccountByID returns a service account by ID alone, for
	// client authentication. ENotFound.
	GetServiceAccountByID(ctx context.Context, id string) (*ServiceAccount, error)
	// GetServiceAccountAndOrg returns a service account by ID alone, with
	// its organization, in one read: what authenticating one of its
	// credentials needs. ENotFound.
	GetServiceAccountAndOrg(ctx context.Context, id string) (*ServiceAccount, *Org, error)
	// ListServiceAccounts returns the org's accounts matching f by creation
	// time, then ID (by folded name when f.Query is set), and the next
	// page's cursor. A cursor of the other order is EInvalid.
	ListServiceAccounts(ctx context.Context, orgID string, f ServiceAccountFilter, p Page) ([]ServiceAccount, string, error)
	// UpdateServiceAccount writes sa's description, role, status,
	// ReuseAfter and RequireDPoP. ENotFound.
	UpdateServiceAccount(ctx context.Context, sa *ServiceAccount) error
	// TouchServiceAccount sets last_used_at to t if it is later. ENotFound.
	TouchServiceAccount(ctx context.Context, id string, t time.Time) error
	// DeleteServiceAccount deletes the account with its secrets and access
	// tokens (S8). ENotFound.
	DeleteServiceAccount(ctx context.Context, orgID, id string) error

	// CreateClientSecret inserts s. ENotFound if the account does not exist.
	CreateClientSecret(ctx context.Context, s *ClientSecret) error
	// GetClientSecretByHash returns the secret with that keyed hash, live
	// or not (a leak report names it alone). ENotFound.
	GetClientSecretByHash(ctx context.Context, hash []byte) (*ClientSecret, error)
	// ListClientSecrets returns the account's secrets, newest first.
	ListClientSecrets(ctx context.Context, serviceAccountID string) ([]ClientSecret, error)
	// ExpireClientSecret sets the secret's expiry. ENotFound.
	ExpireClientSecret(ctx context.Context, id string, t time.Time) error
	// DeleteClientSecretsExpiredBefore removes the account's secrets that
	// expired before t.
	DeleteClientSecretsExpiredBefore(ctx context.Context, serviceAccountID string, t time.Time) error

	// CreateAccessToken inserts t. ENotFound if the account does not exist.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	// GetAccessToken returns the access token record with that jti. ENotFound.
	GetAccessToken(ctx context.Context, id string) (*AccessToken, error)
	// LatestAccessToken returns the account's most recently issued access
	// token bound to the DPoP key thumbprint jkt ("" for tokens bound to
	// none). ENotFound if it has none.
	LatestAccessToken(ctx context.Context, serviceAccountID, jkt string) (*AccessToken, error)
	// RevokeAccessToken marks the token revoked at t (a revoked token stays
	// revoked at its first time). ENotFound.
	RevokeAccessToken(ctx context.Context, id string, t time.Time) error
	// RevokeAccessTokensOf revokes, at t, every token of the account that
	// is neither revoked nor expired at t, and returns them, revoked
	// (their sealed JWTs let the caller drop them from every cache).
	RevokeAccessTokensOf(ctx context.Context, serviceAccountID string, t time.Time) ([]AccessToken, error)
	// RevokeAccessTokensOfSecret is RevokeAccessTokensOf for the account's
	// tokens minted with the client secret secretID only.
	RevokeAccessTokensOfSecret(ctx context.Context, serviceAccountID, secretID string, t time.Time) ([]AccessToken, error)
	// DeleteAccessTokensExpiredBefore removes records of tokens that
	// expired before t, and returns how many.
	DeleteAccessTokensExpiredBefore(ctx context.Context, t time.Time) (int, error)

	// CreateClientKey inserts k. EConflict if the account has a key with
	// the same kid or thumbprint; ENotFound if the account does not exist.
	CreateClientKey(ctx context.Context, k *ClientKey) error
	// ListClientKeys returns the account's keys, oldest first.
	ListClientKeys(ctx context.Context, serviceAccountID string) ([]ClientKey, error)
	// DeleteClientKey deletes the account's key. ENotFound.
	DeleteClientKey(ctx context.Context, serviceAccountID, id string) error
	// TouchClientKey sets the key's last_used_at to t if it is later.
	// ENotFound.
	TouchClientKey(ctx context.Context, id string, t time.Time) error

	// CreateFederatedCredential inserts fc. EConflict if the account has
	// one with the same name ignoring case; ENotFound if the account does
	// not exist.
	CreateFederatedCredential(ctx context.Context, fc *FederatedCredential) error
	// ListFederatedCredentials returns the account's federated
	// credentials, oldest first.
	ListFederatedCredentials(ctx context.Context, serviceAccountID string) ([]FederatedCredential, error)
	// DeleteFederatedCredential deletes the account's credential. ENotFound.
	DeleteFederatedCredential(ctx context.Context, serviceAccountID, id string) error
	// TouchFederatedCredential sets last_used_at to t if it is later.
	// ENotFound.
	TouchFederatedCredential(ctx context.Context, id string, t time.Time) error

	// UseOnce records key (a replay-cache key: an assertion's or a DPoP
	// proof's jti, with what it belongs to) as used until expires.
	// EConflict if it is recorded already and not expired at now: the
	// one rule that makes a jti single-use on every replica.
	UseOnce(ctx context.Context, key string, now, expires time.Time) error
	// DeleteUsedBefore forgets the keys that expired before t, and
	// returns how many.
	DeleteUsedBefore(ctx context.Context, t time.Time) (int, error)

	// CreateSigningKey inserts k.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every signing key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey marks the key as no longer signing from t. ENotFound.
	RetireSigningKey(ctx context.Context, id string, t time.Time) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error)

	// CreateAPIToken inserts t. EConflict if a token with the same hash
	// exists; ENotFound if the org or the owner does not exist.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// GetAPIToken returns the org's token. ENotFound, also for another
	// org's token.
	GetAPIToken(ctx context.Context, orgID, id string) (*APITokenView, error)
	// GetAPITokenByHash returns the token with that keyed hash. ENotFound.
	GetAPITokenByHash(ctx context.Context, hash []byte) (*APITokenView, error)
	// GetAccountTokenByHash returns the token with that keyed hash when a
	// service account owns it, with the account and its organization, in
	// one read: what authenticating the token cold needs. ENotFound, also
	// for a token a user owns (GetAPITokenByHash finds it).
	GetAccountTokenByHash(ctx context.Context, hash []byte) (*AccountToken, error)
	// ListAPITokens returns the org's tokens matching f by creation time,
	// then ID (by folded name when f.Query is set), and the next page's
	// cursor. A cursor of the other order is EInvalid.
	ListAPITokens(ctx context.Context, orgID string, f APITokenFilter, p Page) ([]APITokenView, string, error)
	// UpdateAPIToken writes t's name, description, domains, role, owner and
	// expiry. ENotFound; ENotFound also if the new owner does not exist.
	UpdateAPIToken(ctx context.Context, t *APIToken) error
	// DeleteAPIToken deletes the org's token. ENotFound.
	DeleteAPIToken(ctx context.Context, orgID, id string) error
	// TouchAPIToken records a use at t from origin ("" for none), unless a
	// later use is recorded already. ENotFound.
	TouchAPIToken(ctx context.Context, id string, t time.Time, origin string) error
	// PublicOriginListed reports whether any public token lists origin
	// (canonical) among its domains: CORS preflights carry no token.
	PublicOriginListed(ctx context.Context, origin string) (bool, error)
}

// Broadcaster tells every process sharing a database, this one included,
// that something it may have cached changed. SQLite serves one process, so
// its Broadcaster is local; PostgreSQL's carries keys between processes
// with LISTEN/NOTIFY.
type Broadcaster interface {
	// Broadcast delivers key to this process's listeners before it
	// returns, and to the other processes soon after. An error means the
	// others may not hear of it: they see the change when what they cached
	// expires.
	Broadcast(ctx context.Context, key string) error
	// Listen calls fn with every key broadcast, by this process or
	// another, until ctx ends. When the link that carries other processes'
	// keys is lost, it calls lost with the error, and fn(ChangedEverything)
	// once the link is back, since anything may have changed meanwhile.
	Listen(ctx context.Context, fn func(key string), lost func(error))
}

// ChangedEverything is the key that says anything may have changed.
const ChangedEverything = "*"
