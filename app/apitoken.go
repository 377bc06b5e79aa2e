package app

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/origin"
)

// APITokenInput creates an API token. Role nil takes the default: viewer
// for a public token (anyone can read it out of a web page), the owner's
// role for a private one.
type APITokenInput struct {
	Name             string
	Description      string
	ServiceAccountID string
	Kind             tollgate.TokenKind
	Domains          []string
	Role             *tollgate.Role
	ExpiresAt        *time.Time
}

// ImportInput imports a legacy token owned by a member (A6).
type ImportInput struct {
	Name        string
	Description string
	OwnerUserID string
	Token       string
	Kind        tollgate.TokenKind
	Domains     []string
	Role        *tollgate.Role
	ExpiresAt   *time.Time
}

// APITokenUpdate changes a token; nil fields stay.
type APITokenUpdate struct {
	Name        *string
	Description *string
	Domains     *[]string
}

func tokenPrincipal(t *tollgate.APIToken) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalAPIToken, ID: t.ID, Name: t.Name}
}

// checkTokenFields validates what every token shares: name, description,
// kind and domains (A2, A5), expiry in the future. It returns the
// canonical domains.
func (a *App) checkTokenFields(name, description string, kind tollgate.TokenKind, domains []string, expires *time.Time) ([]string, error) {
	if err := tollgate.ValidateAPITokenName(name); err != nil {
		return nil, err
	}
	if err := tollgate.ValidateDescription(description); err != nil {
		return nil, err
	}
	if expires != nil && !expires.After(a.clock.Now()) {
		return nil, tollgate.Invalidf("expires_at", "expires_at must be in the future")
	}
	switch kind {
	case tollgate.KindPublic:
	case tollgate.KindPrivate:
		if len(domains) > 0 {
			return nil, tollgate.Invalidf("domains", "domains are only for public tokens: a private token is accepted from anywhere")
		}
		return []string{}, nil
	default:
		return nil, tollgate.Invalidf("kind", "kind must be public (accepted only from listed web origins) or private (accepted from anywhere)")
	}
	return checkDomains(domains)
}

// checkDomains normalizes a public token's origins; it needs at least one.
func checkDomains(domains []string) ([]string, error) {
	if len(domains) == 0 {
		return nil, tollgate.Invalidf("domains", "a public token needs at least one domain: the full origin of each web page that may use it, such as https://app.example.com")
	}
	if len(domains) > tollgate.MaxAPITokenDomains {
		return nil, tollgate.Invalidf("domains", "at most %d domains", tollgate.MaxAPITokenDomains)
	}
	canon, err := origin.Domains(domains)
	if err != nil {
		return nil, tollgate.Invalidf("domains", "%s", err.Error())
	}
	return canon, nil
}

// tokenRole returns the role a token gets: requested (never above the
// owner's, never super_admin) or the default for its kind.
func tokenRole(requested *tollgate.Role, kind tollgate.TokenKind, owner tollgate.Role) (tollgate.Role, error) {
	if owner == tollgate.RoleSuperAdmin {
		owner = tollgate.RoleAdmin // tokens never carry super_admin
	}
	if requested == nil {
		if kind == tollgate.KindPublic {
			return tollgate.RoleViewer, nil
		}
		return owner, nil
	}
	if err := tollgate.ValidateServiceAccountRole(*requested); err != nil {
		return "", err
	}
	if !owner.AtLeast(*requested) {
		return "", tollgate.Invalidf("role", "a token's role cannot be above its owner's role (%s)", owner)
	}
	return *requested, nil
}

// orgServiceAccount finds a service account of org named by a request
// field; one of another org is not_found, like a missing one (A1, A6).
func (a *App) orgServiceAccount(ctx context.Context, q tollgate.Queries, org *tollgate.Org, id string) (*tollgate.ServiceAccount, error) {
	if id == "" {
		return nil, tollgate.Invalidf("service_account_id", "service_account_id is required: every API token is owned by a service account of the organization (create one first)")
	}
	if tollgate.HasPrefix(id, tollgate.PrefixUser) {
		return nil, tollgate.Invalidf("service_account_id", "API tokens can only be owned by service accounts, not by users")
	}
	sa, err := q.GetServiceAccount(ctx, org.ID, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, &tollgate.Error{Code: tollgate.ENotFound, Field: "service_account_id", Message: "no service account " + id + " in " + org.Slug}
	}
	return sa, err
}

// CreateAPIToken makes a token owned by a service account of the org (A1);
// super_admin only. The plain token (tgp_… private, tgq_… public) is
// returned this once; only its keyed hash is stored.
func (a *App) CreateAPIToken(ctx context.Context, ac Actor, slug string, in APITokenInput) (*tollgate.APITokenView, string, error) {
	ctx, span := tracer.Start(ctx, "app.CreateAPIToken")
	defer span.End()
	domains, err := a.checkTokenFields(in.Name, in.Description, in.Kind, in.Domains, in.ExpiresAt)
	if err != nil {
		return nil, "", err
	}
	prefix := credential.PrefixPrivateToken
	if in.Kind == tollgate.KindPublic {
		prefix = credential.PrefixPublicToken
	}
	plain := credential.NewCredential(prefix)
	var view *tollgate.APITokenView
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if err := org.Settings.CheckAPIToken(in.Kind, in.ExpiresAt, a.clock.Now()); err != nil {
			return err
		}
		sa, err := a.orgServiceAccount(ctx, q, org, in.ServiceAccountID)
		if err != nil {
			return err
		}
		role, err := tokenRole(in.Role, in.Kind, sa.Role)
		if err != nil {
			return err
		}
		now := a.now()
		t := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, now), OrgID: org.ID, Name: in.Name, Description: in.Description,
			Kind: in.Kind, Domains: domains, Role: role, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID,
			Hash: a.cfg.Keyring.Hash(plain), ExpiresAt: stamp(in.ExpiresAt), CreatedAt: now, CreatedBy: ac.ID}
		if err := q.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		view = &tollgate.APITokenView{APIToken: *t, OwnerName: sa.Name}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionTokenCreated, tokenPrincipal(t), map[string]any{
			"kind": t.Kind, "role": string(t.Role), "domains": t.Domains, "owner_id": sa.ID})
	})
	if err != nil {
		return nil, "", err
	}
	return view, plain, nil
}

func stamp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := tollgate.Timestamp(*t)
	return &s
}

// ImportAPIToken stores an existing token from an older system, owned by a
// member of the org, hashed like any other (A6); super_admin only. A token
// imported before is EConflict.
func (a *App) ImportAPIToken(ctx context.Context, ac Actor, slug string, in ImportInput) (*tollgate.APITokenView, error) {
	ctx, span := tracer.Start(ctx, "app.ImportAPIToken")
	defer span.End()
	domains, err := a.checkTokenFields(in.Name, in.Description, in.Kind, in.Domains, in.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if n := len(in.Token); n < tollgate.MinLegacyTokenLength || n > tollgate.MaxLegacyTokenLength || strings.IndexFunc(in.Token, notTokenChar) >= 0 {
		return nil, tollgate.Invalidf("token", "token must be %d to %d printable ASCII characters without spaces", tollgate.MinLegacyTokenLength, tollgate.MaxLegacyTokenLength)
	}
	if strings.HasPrefix(in.Token, credential.PrefixCLISession) {
		return nil, tollgate.Invalidf("token", "a token starting with %s is a person's command-line session, not an older system's token", credential.PrefixCLISession)
	}
	var view *tollgate.APITokenView
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if err := org.Settings.CheckImport(); err != nil {
			return err
		}
		if err := org.Settings.CheckAPIToken(in.Kind, in.ExpiresAt, a.clock.Now()); err != nil {
			return err
		}
		if in.OwnerUserID == "" {
			return tollgate.Invalidf("owner_user_id", "owner_user_id is required: the member who owns the token in the older system")
		}
		m, err := q.GetMemberView(ctx, org.ID, in.OwnerUserID)
		if tollgate.ErrorCode(err) == tollgate.ENotFound {
			return &tollgate.Error{Code: tollgate.ENotFound, Field: "owner_user_id", Message: "no member " + in.OwnerUserID + " in " + org.Slug}
		} else if err != nil {
			return err
		}
		role, err := tokenRole(in.Role, in.Kind, m.Role)
		if err != nil {
			return err
		}
		now := a.now()
		t := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, now), OrgID: org.ID, Name: in.Name, Description: in.Description,
			Kind: in.Kind, Domains: domains, Role: role, OwnerType: tollgate.PrincipalUser, OwnerID: m.UserID,
			Hash: a.cfg.Keyring.Hash(in.Token), ExpiresAt: stamp(in.ExpiresAt), CreatedAt: now, CreatedBy: ac.ID}
		if err := q.CreateAPIToken(ctx, t); err != nil {
			if tollgate.ErrorCode(err) == tollgate.EConflict {
				return &tollgate.Error{Code: tollgate.EConflict, Field: "token", Message: "this token was imported already"}
			}
			return err
		}
		view = &tollgate.APITokenView{APIToken: *t, OwnerName: m.Email}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionTokenImported, tokenPrincipal(t), map[string]any{
			"kind": t.Kind, "role": string(t.Role), "owner_user_id": m.UserID})
	})
	if err == nil {
		// A process may remember the string as unknown (authn's negative
		// cache): it is known now.
		a.changed(ctx, tollgate.CredentialChanged(view.Hash))
	}
	return view, err
}

func notTokenChar(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' }

// ListAPITokens returns a page of the org's tokens matching f; admin or
// higher. A malformed page, search or kind is EInvalid.
func (a *App) ListAPITokens(ctx context.Context, ac Actor, slug string, f tollgate.APITokenFilter, p tollgate.Page) ([]tollgate.APITokenView, string, error) {
	ctx, span := tracer.Start(ctx, "app.ListAPITokens")
	defer span.End()
	if err := validateList(f.Query, p); err != nil {
		return nil, "", err
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, "", tollgate.Invalidf("kind", "kind must be public or private")
	}
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	return a.store.ListAPITokens(ctx, org.ID, f, p)
}

// GetAPIToken returns one token; admin or higher.
func (a *App) GetAPIToken(ctx context.Context, ac Actor, slug, id string) (*tollgate.APITokenView, error) {
	ctx, span := tracer.Start(ctx, "app.GetAPIToken")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return a.apiToken(ctx, a.store, org, id)
}

func (a *App) apiToken(ctx context.Context, q tollgate.Queries, org *tollgate.Org, id string) (*tollgate.APITokenView, error) {
	t, err := q.GetAPIToken(ctx, org.ID, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, tollgate.Errorf(tollgate.ENotFound, "API token %q not found in %s", id, org.Slug)
	}
	return t, err
}

// UpdateAPIToken changes a token's name, description or domains;
// super_admin only.
func (a *App) UpdateAPIToken(ctx context.Context, ac Actor, slug, id string, upd APITokenUpdate) (*tollgate.APITokenView, error) {
	ctx, span := tracer.Start(ctx, "app.UpdateAPIToken")
	defer span.End()
	var t *tollgate.APITokenView
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if t, err = a.apiToken(ctx, q, org, id); err != nil {
			return err
		}
		changes := map[string]any{}
		if upd.Name != nil && *upd.Name != t.Name {
			if err := tollgate.ValidateAPITokenName(*upd.Name); err != nil {
				return err
			}
			changes["name"] = map[string]any{"from": t.Name, "to": *upd.Name}
			t.Name = *upd.Name
		}
		if upd.Description != nil && *upd.Description != t.Description {
			if err := tollgate.ValidateDescription(*upd.Description); err != nil {
				return err
			}
			changes["description"] = map[string]any{"from": t.Description, "to": *upd.Description}
			t.Description = *upd.Description
		}
		if upd.Domains != nil {
			if t.Kind != tollgate.KindPublic {
				return tollgate.Invalidf("domains", "domains are only for public tokens: a private token is accepted from anywhere")
			}
			canon, err := checkDomains(*upd.Domains)
			if err != nil {
				return err
			}
			if strings.Join(canon, " ") != strings.Join(t.Domains, " ") {
				changes["domains"] = map[string]any{"from": t.Domains, "to": canon}
				t.Domains = canon
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if err := q.UpdateAPIToken(ctx, &t.APIToken); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionTokenUpdated, tokenPrincipal(&t.APIToken), changes)
	})
	if err == nil {
		a.changed(ctx, tollgate.CredentialChanged(t.Hash))
	}
	return t, err
}

// DeleteAPIToken revokes a token: it is deleted and refused at once
// (A9); its audit history stays. super_admin only.
func (a *App) DeleteAPIToken(ctx context.Context, ac Actor, slug, id string) error {
	ctx, span := tracer.Start(ctx, "app.DeleteAPIToken")
	defer span.End()
	var t *tollgate.APITokenView
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if t, err = a.apiToken(ctx, q, org, id); err != nil {
			return err
		}
		if err := q.DeleteAPIToken(ctx, org.ID, id); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionTokenRevoked, tokenPrincipal(&t.APIToken),
			map[string]any{"kind": t.Kind, "owner_type": t.OwnerType, "owner_id": t.OwnerID})
	})
	if err == nil {
		a.changed(ctx, tollgate.CredentialChanged(t.Hash))
	}
	return err
}

// ReassignAPIToken moves a token to a service account of the same org,
// never to a user (A6); super_admin only. The token must meet the org's
// policy (P1). A token whose role is above its
// new owner's is lowered to it, and the audit event says so.
func (a *App) ReassignAPIToken(ctx context.Context, ac Actor, slug, id, serviceAccountID string) (*tollgate.APITokenView, error) {
	ctx, span := tracer.Start(ctx, "app.ReassignAPIToken")
	defer span.End()
	var t *tollgate.APITokenView
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if t, err = a.apiToken(ctx, q, org, id); err != nil {
			return err
		}
		sa, err := a.orgServiceAccount(ctx, q, org, serviceAccountID)
		if err != nil {
			return err
		}
		if t.OwnerType == tollgate.PrincipalServiceAccount && t.OwnerID == sa.ID {
			return nil
		}
		// A token moved to a new owner is held to today's policy, as a
		// new one would be; one that breaks it is revoked and made anew.
		if err := org.Settings.CheckAPIToken(t.Kind, t.ExpiresAt, a.clock.Now()); err != nil {
			return err
		}
		details := map[string]any{"from": map[string]any{"type": t.OwnerType, "id": t.OwnerID, "name": t.OwnerName},
			"to": map[string]any{"type": tollgate.PrincipalServiceAccount, "id": sa.ID, "name": sa.Name}}
		if !sa.Role.AtLeast(t.Role) {
			details["role"] = map[string]any{"from": string(t.Role), "to": string(sa.Role)}
			t.Role = sa.Role
		}
		t.OwnerType, t.OwnerID, t.OwnerName = tollgate.PrincipalServiceAccount, sa.ID, sa.Name
		if err := q.UpdateAPIToken(ctx, &t.APIToken); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionTokenReassigned, tokenPrincipal(&t.APIToken), details)
	})
	if err == nil {
		a.changed(ctx, tollgate.CredentialChanged(t.Hash))
	}
	return t, err
}
