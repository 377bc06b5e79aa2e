package tollgate

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ID prefixes of webhooks (P2).
const (
	PrefixWebhook        = "wh"
	PrefixWebhookMessage = "msg"
)

// Audit actions of webhooks, and the principal type they name.
const (
	ActionWebhookCreated = "webhook.created"
	ActionWebhookUpdated = "webhook.updated"
	ActionWebhookDeleted = "webhook.deleted"

	PrincipalWebhook PrincipalType = "webhook"
)

// Events a webhook hears besides the audit actions (P2): an API token 7
// days and 1 day before it expires, and a rotated client secret 1 day
// before its grace period ends. EventAll subscribes to every event.
const (
	EventTokenExpiring     = "token.expiring"
	EventSecretGraceEnding = "secret.grace_ending"
	EventAll               = "*"
)

// AuditActions are every action the audit log records, in the order the
// console offers them. Each is also a webhook event.
var AuditActions = []string{
	ActionOrgCreated, ActionOrgUpdated, ActionMemberInvited, ActionMemberJoined,
	ActionMemberRoleChanged, ActionMemberRemoved, ActionMemberRemovalBlocked,
	ActionSessionCreated, ActionSessionFailed, ActionSessionRevoked,
	ActionDeviceApproved, ActionDeviceDenied,
	ActionServiceAccountCreated, ActionServiceAccountUpdated, ActionServiceAccountDisabled,
	ActionServiceAccountEnabled, ActionServiceAccountDeleted, ActionServiceAccountSecretRotated,
	ActionClientKeyAdded, ActionClientKeyDeleted, ActionFederatedCredentialAdded, ActionFederatedCredentialDeleted,
	ActionAccessTokenIssued, ActionAccessTokenRevoked,
	ActionTokenCreated, ActionTokenUpdated, ActionTokenRevoked, ActionTokenImported, ActionTokenReassigned,
	ActionCredentialLeaked, ActionAuthRateLimited,
	ActionWebhookCreated, ActionWebhookUpdated, ActionWebhookDeleted,
}

// WebhookEvents are the events a webhook may subscribe to: every audit
// action, then the notices.
var WebhookEvents = append(slices.Clone(AuditActions), EventTokenExpiring, EventSecretGraceEnding)

// ValidateWebhookEvents checks a subscription: 1 to MaxWebhookEvents
// known events, or ["*"] alone. It returns them without duplicates.
func ValidateWebhookEvents(events []string) ([]string, error) {
	const field = "events"
	if len(events) == 0 {
		return nil, Invalidf(field, "Choose at least one event, or \"*\" for all of them.")
	}
	if len(events) > MaxWebhookEvents {
		return nil, Invalidf(field, "A webhook subscribes to at most %d events; use \"*\" for all of them.", MaxWebhookEvents)
	}
	var out []string
	for _, e := range events {
		if e == EventAll && len(events) > 1 {
			return nil, Invalidf(field, "\"*\" already means every event: send it alone.")
		}
		if e != EventAll && !slices.Contains(WebhookEvents, e) {
			return nil, Invalidf(field, "%q is not an event Tollgate sends. The events are the audit actions (such as token.created), token.expiring and secret.grace_ending.", PlainCut(e, 80))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Limits of webhooks.
const (
	MaxWebhooksPerOrg       = 20
	MaxWebhookURLLength     = 2000
	MaxWebhookEvents        = 64
	WebhookDeliveryDeadline = 24 * time.Hour // retried until this long after the event
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // not delivered yet; retried at NextAttemptAt
	DeliveryDelivered DeliveryStatus = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // given up after WebhookDeliveryDeadline
)

// Webhook is an org's subscription: events are POSTed to URL, signed with
// the secret (Standard Webhooks). The secret (whsec_…) is kept sealed with
// the key file, as signing needs it in plain; it is shown once.
type Webhook struct {
	ID          string
	OrgID       string
	URL         string
	Events      []string // event names, or EventAll
	Description string
	Sealed      []byte // the secret, sealed (credential.Keyring.Seal, context: the ID)
	CreatedAt   time.Time
	CreatedBy   string
}

// Wants reports whether the webhook subscribes to event.
func (w *Webhook) Wants(event string) bool {
	return slices.Contains(w.Events, EventAll) || slices.Contains(w.Events, event)
}

// WebhookMessage is one event to send, written to the outbox in the
// transaction of the change it tells of. Payload is the JSON body, the
// same for every webhook; ID is its webhook-id.
type WebhookMessage struct {
	ID        string
	OrgID     string
	Event     string
	Payload   []byte
	CreatedAt time.Time
}

// WebhookDelivery is one message to one webhook, with its attempts.
type WebhookDelivery struct {
	WebhookID      string
	MessageID      string
	Event          string
	Status         DeliveryStatus
	Attempts       int
	NextAttemptAt  time.Time
	LastAttemptAt  *time.Time
	ResponseStatus int    // of the last attempt; 0 when none answered
	LastError      string // of the last attempt that failed; "" otherwise
	CreatedAt      time.Time
	History        []WebhookAttempt // oldest first, when asked for
}

// WebhookAttempt is one try of a delivery.
type WebhookAttempt struct {
	At             time.Time
	ResponseStatus int // 0 when the receiver did not answer
	Error          string
	DurationMillis int
}

// WebhookSend is a claimed delivery with what sending it needs.
type WebhookSend struct {
	Delivery WebhookDelivery
	URL      string
	Sealed   []byte
	Payload  []byte
}

// WebhookResult is the outcome of one attempt, for RecordWebhookAttempt.
type WebhookResult struct {
	WebhookID, MessageID string
	Attempt              WebhookAttempt
	// Status is the delivery's status after the attempt, and Next its next
	// try when still pending.
	Status DeliveryStatus
	Next   time.Time
}

// ValidateWebhookURL checks a webhook's URL: absolute https with a host,
// no user info and no fragment, at most MaxWebhookURLLength bytes. An
// http URL is allowed only on an origin listed in insecure (exact
// "http://127.0.0.1:PORT" origins, for tests). Where the host resolves is
// checked when connecting (private addresses are refused then).
func ValidateWebhookURL(raw string, insecure []string) error {
	const field = "url"
	if raw == "" {
		return Invalidf(field, "The webhook URL is required: the https address that receives the events.")
	}
	if len(raw) > MaxWebhookURLLength || !PlainText(raw) {
		return Invalidf(field, "The webhook URL must be at most %d characters of plain text.", MaxWebhookURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return Invalidf(field, "The webhook URL must be a full URL, such as https://hooks.example.com/tollgate.")
	}
	if u.User != nil {
		return Invalidf(field, "The webhook URL must not hold a user name or password: events are signed instead.")
	}
	if u.Fragment != "" {
		return Invalidf(field, "The webhook URL must not have a #fragment.")
	}
	origin := u.Scheme + "://" + u.Host
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && slices.Contains(insecure, origin):
	default:
		return Invalidf(field, "The webhook URL must use https.")
	}
	h := u.Hostname()
	if strings.HasSuffix(h, ".") || h == "" {
		return Invalidf(field, "The webhook URL's host is not valid.")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Invalidf(field, "The webhook URL's port must be between 1 and 65535.")
		}
	}
	listed := slices.Contains(insecure, origin)
	if addr, err := netip.ParseAddr(h); err == nil && !AllowedWebhookAddress(addr, listed) {
		return Invalidf(field, "The webhook URL points to a private or local address (%s); webhooks reach public addresses only.", h)
	}
	if lower := strings.ToLower(h); !listed && (lower == "localhost" || strings.HasSuffix(lower, ".localhost")) {
		return Invalidf(field, "The webhook URL points to this machine; webhooks reach public addresses only.")
	}
	return nil
}

// AllowedWebhookAddress reports whether a webhook may connect to addr:
// public unicast addresses only, unless the origin was listed as insecure
// (then loopback is allowed too). Private, loopback, link-local,
// multicast, unspecified and shared (100.64/10) ranges are refused, so that
// a webhook cannot reach inside the network Tollgate runs in (SSRF).
func AllowedWebhookAddress(addr netip.Addr, insecureOrigin bool) bool {
	addr = addr.Unmap()
	if insecureOrigin && addr.IsLoopback() {
		return true
	}
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsMulticast() || addr.IsUnspecified() || addr.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// blockedPrefixes are ranges netip has no predicate for.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: may map to a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215): likewise
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
}

// WebhookDeliveryKey is the sort key of delivery lists (newest first).
func WebhookDeliveryKey(d *WebhookDelivery) (time.Time, string) { return d.CreatedAt, d.MessageID }
