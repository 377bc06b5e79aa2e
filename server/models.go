package server

import (
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// The API's JSON shapes, kept apart from domain types and database rows so
// that each can change without the others. Field names are the contract.

type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, next string) listJSON[T] {
	l := listJSON[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

type userJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type membershipJSON struct {
	OrgID   string `json:"org_id"`
	OrgSlug string `json:"org_slug"`
	Role    string `json:"role"`
}

type sessionJSON struct {
	User        userJSON         `json:"user"`
	Memberships []membershipJSON `json:"memberships"`
}

func toSession(info *app.SessionInfo) sessionJSON {
	out := sessionJSON{User: userJSON{ID: info.User.ID, Email: info.User.Email, Name: info.User.Name}, Memberships: []membershipJSON{}}
	for _, m := range info.Memberships {
		out.Memberships = append(out.Memberships, membershipJSON{OrgID: m.OrgID, OrgSlug: m.OrgSlug, Role: string(m.Role)})
	}
	return out
}

// userSessionJSON is one of a person's sessions (GET /me/sessions);
// current marks the one the request came with.
type userSessionJSON struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

func toUserSession(s *tollgate.Session, current string) userSessionJSON {
	return userSessionJSON{ID: s.ID, Kind: string(s.Kind), IP: s.IP, UserAgent: s.UserAgent, CreatedAt: s.CreatedAt,
		LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt, Current: s.ID == current}
}

type orgSettingsJSON struct {
	TokenReuseFloorSeconds     int  `json:"token_reuse_floor_seconds"`
	MaxTokenTTLSeconds         int  `json:"max_token_ttl_seconds"`
	APITokenMaxLifetimeSeconds int  `json:"api_token_max_lifetime_seconds"`
	PublicTokensAllowed        bool `json:"public_tokens_allowed"`
	UserTokenImportAllowed     bool `json:"user_token_import_allowed"`
}

type orgJSON struct {
	ID        string          `json:"id"`
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	CreatedAt time.Time       `json:"created_at"`
	Settings  orgSettingsJSON `json:"settings"`
}

func toOrg(o *tollgate.Org) orgJSON {
	return orgJSON{ID: o.ID, Slug: o.Slug, Name: o.Name, CreatedAt: o.CreatedAt,
		Settings: orgSettingsJSON{TokenReuseFloorSeconds: o.Settings.TokenReuseFloorSeconds,
			MaxTokenTTLSeconds: o.Settings.MaxTokenTTLSeconds, APITokenMaxLifetimeSeconds: o.Settings.APITokenMaxLifetimeSeconds,
			PublicTokensAllowed: !o.Settings.NoPublicTokens, UserTokenImportAllowed: !o.Settings.NoUserTokenImport}}
}

type policyViolationJSON struct {
	Policy      string          `json:"policy"`
	Kind        string          `json:"kind"`
	Message     string          `json:"message"`
	Count       int             `json:"count"`
	Credentials []principalJSON `json:"credentials"`
}

func toPolicyViolation(v *tollgate.PolicyViolation) policyViolationJSON {
	out := policyViolationJSON{Policy: v.Policy, Kind: string(v.Rule), Message: v.Message(), Count: v.Count, Credentials: []principalJSON{}}
	for _, p := range v.Samples {
		out.Credentials = append(out.Credentials, toPrincipal(p))
	}
	return out
}

type memberJSON struct {
	UserID          string    `json:"user_id"`
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	Role            string    `json:"role"`
	JoinedAt        time.Time `json:"joined_at"`
	OwnedTokenCount int       `json:"owned_token_count"`
}

func toMember(m *tollgate.MemberView) memberJSON {
	return memberJSON{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: string(m.Role), JoinedAt: m.JoinedAt, OwnedTokenCount: m.OwnedTokenCount}
}

type invitationJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Token     string    `json:"token"`
	AcceptURL string    `json:"accept_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

type principalJSON struct {
	Type tollgate.PrincipalType `json:"type"`
	ID   string                 `json:"id"`
	Name string                 `json:"name"`
}

func toPrincipal(p tollgate.Principal) principalJSON {
	return principalJSON{Type: p.Type, ID: p.ID, Name: p.Name}
}

type auditEventJSON struct {
	ID        string         `json:"id"`
	Time      time.Time      `json:"time"`
	OrgID     string         `json:"org_id"`
	Actor     principalJSON  `json:"actor"`
	Action    string         `json:"action"`
	Target    principalJSON  `json:"target"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
	Details   map[string]any `json:"details"`
}

func toAuditEvent(e *tollgate.AuditEvent) auditEventJSON {
	d := e.Details
	if d == nil {
		d = map[string]any{}
	}
	return auditEventJSON{ID: e.ID, Time: e.Time, OrgID: e.OrgID,
		Actor:  toPrincipal(e.Actor),
		Action: e.Action,
		Target: toPrincipal(e.Target),
		IP:     e.IP, UserAgent: e.UserAgent, Details: d}
}

type serviceAccountJSON struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Email           string          `json:"email"`
	Description     string          `json:"description"`
	Role            string          `json:"role"`
	TokenTTLSeconds int             `json:"token_ttl_seconds"`
	ClientID        string          `json:"client_id"`
	TokenEndpoint   string          `json:"token_endpoint"`
	Status          tollgate.Status `json:"status"`
	CreatedAt       time.Time       `json:"created_at"`
	CreatedBy       string          `json:"created_by"`
	LastUsedAt      *time.Time      `json:"last_used_at"`
	RequireDPoP     bool            `json:"require_dpop"`
	ClientSecret    string          `json:"client_secret,omitempty"`
}

func (s *Server) toServiceAccount(sa *tollgate.ServiceAccount) serviceAccountJSON {
	return serviceAccountJSON{ID: sa.ID, Name: sa.Name, Email: sa.Email, Description: sa.Description, Role: string(sa.Role),
		TokenTTLSeconds: sa.TokenTTLSeconds, ClientID: sa.ID, TokenEndpoint: s.app.TokenEndpoint(), Status: sa.Status,
		CreatedAt: sa.CreatedAt, CreatedBy: sa.CreatedBy, LastUsedAt: sa.LastUsedAt, RequireDPoP: sa.RequireDPoP}
}

type apiTokenJSON struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Description    string             `json:"description"`
	Kind           tollgate.TokenKind `json:"kind"`
	Domains        []string           `json:"domains"`
	Role           string             `json:"role"`
	Owner          principalJSON      `json:"owner"`
	ExpiresAt      *time.Time         `json:"expires_at"`
	CreatedAt      time.Time          `json:"created_at"`
	CreatedBy      string             `json:"created_by"`
	LastUsedAt     *time.Time         `json:"last_used_at"`
	LastUsedOrigin *string            `json:"last_used_origin"`
	Token          string             `json:"token,omitempty"`
}

func toAPIToken(t *tollgate.APITokenView) apiTokenJSON {
	out := apiTokenJSON{ID: t.ID, Name: t.Name, Description: t.Description, Kind: t.Kind, Domains: t.Domains, Role: string(t.Role),
		Owner:     principalJSON{Type: t.OwnerType, ID: t.OwnerID, Name: t.OwnerName},
		ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, LastUsedAt: t.LastUsedAt}
	if out.Domains == nil {
		out.Domains = []string{}
	}
	if t.LastUsedAt != nil {
		o := t.LastUsedOrigin
		out.LastUsedOrigin = &o
	}
	return out
}
