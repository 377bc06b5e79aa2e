package app

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// ServiceAccountInput is what creates a service account.
type ServiceAccountInput struct {
	Name            string
	Description     string
	Role            tollgate.Role
	TokenTTLSeconds int
}

// ServiceAccountUpdate changes a service account; nil fields stay. Name and
// TokenTTLSeconds can never change (S3, S6): a different value is
// EImmutable.
type ServiceAccountUpdate struct {
	Description     *string
	Role            *tollgate.Role
	Name            *string
	TokenTTLSeconds *int
	// RequireDPoP makes the token endpoint issue only DPoP-bound tokens
	// (K3).
	RequireDPoP *bool
}

// TokenEndpoint is where service accounts get access tokens.
func (a *App) TokenEndpoint() string { return a.cfg.Issuer + "/oauth2/token" }

func saPrincipal(sa *tollgate.ServiceAccount) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: sa.ID, Name: sa.Name}
}

// ListServiceAccounts returns a page of the org's service accounts
// matching f; admin or higher (S1). A malformed page or search is
// EInvalid.
func (a *App) ListServiceAccounts(ctx context.Context, ac Actor, slug string, f tollgate.ServiceAccountFilter, p tollgate.Page) ([]tollgate.ServiceAccount, string, error) {
	ctx, span := tracer.Start(ctx, "app.ListServiceAccounts")
	defer span.End()
	if err := validateList(f.Query, p); err != nil {
		return nil, "", err
	}
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	return a.store.ListServiceAccounts(ctx, org.ID, f, p)
}

// GetServiceAccount returns one service account; admin or higher.
func (a *App) GetServiceAccount(ctx context.Context, ac Actor, slug, id string) (*tollgate.ServiceAccount, error) {
	ctx, span := tracer.Start(ctx, "app.GetServiceAccount")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return a.serviceAccount(ctx, a.store, org, id)
}

func (a *App) serviceAccount(ctx context.Context, q tollgate.Queries, org *tollgate.Org, id string) (*tollgate.ServiceAccount, error) {
	sa, err := q.GetServiceAccount(ctx, org.ID, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, tollgate.Errorf(tollgate.ENotFound, "service account %q not found in %s", id, org.Slug)
	}
	return sa, err
}

// CreateServiceAccount creates a service account with its first client
// secret, which is returned in plain text this once (C1); super_admin only.
// Every rule of S2–S6 is checked and named; a name taken in the org,
// ignoring case, is EConflict.
func (a *App) CreateServiceAccount(ctx context.Context, ac Actor, slug string, in ServiceAccountInput) (*tollgate.ServiceAccount, string, error) {
	ctx, span := tracer.Start(ctx, "app.CreateServiceAccount")
	defer span.End()
	if err := tollgate.ValidateServiceAccountName(in.Name); err != nil {
		return nil, "", err
	}
	if err := tollgate.ValidateDescription(in.Description); err != nil {
		return nil, "", err
	}
	if err := tollgate.ValidateServiceAccountRole(in.Role); err != nil {
		return nil, "", err
	}
	if err := tollgate.ValidateTokenTTL(in.TokenTTLSeconds); err != nil {
		return nil, "", err
	}
	now := a.now()
	secret := credential.NewCredential(credential.PrefixClientSecret)
	var sa *tollgate.ServiceAccount
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if err := org.Settings.CheckTokenTTL(in.TokenTTLSeconds); err != nil {
			return err
		}
		sa = &tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, now), OrgID: org.ID, Name: in.Name,
			Email: tollgate.ServiceAccountEmail(in.Name, org.Slug, a.cfg.ServiceAccountEmailDomain), Description: in.Description,
			Role: in.Role, TokenTTLSeconds: in.TokenTTLSeconds, Status: tollgate.StatusActive, CreatedAt: now, CreatedBy: ac.ID, ReuseAfter: now}
		if err := q.CreateServiceAccount(ctx, sa); err != nil {
			if tollgate.ErrorCode(err) == tollgate.EConflict {
				return &tollgate.Error{Code: tollgate.EConflict, Field: "name",
					Message: "a service account named " + in.Name + " already exists in " + slug + " (names are unique ignoring case)"}
			}
			return err
		}
		if err := q.CreateClientSecret(ctx, &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, now),
			ServiceAccountID: sa.ID, Hash: a.cfg.Keyring.Hash(secret), CreatedAt: now}); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionServiceAccountCreated, saPrincipal(sa), map[string]any{
			"name": sa.Name, "email": sa.Email, "role": string(sa.Role), "token_ttl_seconds": sa.TokenTTLSeconds})
	})
	if err != nil {
		return nil, "", err
	}
	return sa, secret, nil
}

// UpdateServiceAccount changes description, role and require_dpop;
// super_admin only. A change of role or of require_dpop stops the reuse of
// the current tokens, and requiring DPoP revokes the live ones.
func (a *App) UpdateServiceAccount(ctx context.Context, ac Actor, slug, id string, upd ServiceAccountUpdate) (*tollgate.ServiceAccount, error) {
	ctx, span := tracer.Start(ctx, "app.UpdateServiceAccount")
	defer span.End()
	var sa *tollgate.ServiceAccount
	var dropped []tollgate.Change
	err := a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, got *tollgate.ServiceAccount) error {
		sa, dropped = got, nil
		if upd.TokenTTLSeconds != nil && *upd.TokenTTLSeconds != sa.TokenTTLSeconds {
			return &tollgate.Error{Code: tollgate.EImmutable, Field: "token_ttl_seconds",
				Message: "token_ttl_seconds cannot be changed after creation: create a new service account with the lifetime you need"}
		}
		if upd.Name != nil && *upd.Name != sa.Name {
			return &tollgate.Error{Code: tollgate.EImmutable, Field: "name",
				Message: "name cannot be changed, because it makes the account's email address: create a new service account instead"}
		}
		changes := map[string]any{}
		if upd.Description != nil && *upd.Description != sa.Description {
			if err := tollgate.ValidateDescription(*upd.Description); err != nil {
				return err
			}
			changes["description"] = map[string]any{"from": sa.Description, "to": *upd.Description}
			sa.Description = *upd.Description
		}
		if upd.Role != nil && *upd.Role != sa.Role {
			if err := tollgate.ValidateServiceAccountRole(*upd.Role); err != nil {
				return err
			}
			changes["role"] = map[string]any{"from": string(sa.Role), "to": string(*upd.Role)}
			sa.Role = *upd.Role
			sa.ReuseAfter = a.now() // tokens carry the role: mint anew
		}
		if upd.RequireDPoP != nil && *upd.RequireDPoP != sa.RequireDPoP {
			changes["require_dpop"] = map[string]any{"from": sa.RequireDPoP, "to": *upd.RequireDPoP}
			sa.RequireDPoP = *upd.RequireDPoP
			sa.ReuseAfter = a.now() // Bearer tokens must not be handed out again
			if sa.RequireDPoP {
				// Unbound tokens already out could be replayed by whoever
				// holds them: requiring DPoP revokes them.
				var err error
				if dropped, err = a.revokeAccessTokensOf(ctx, q, sa.ID); err != nil {
					return err
				}
				changes["revoked_access_tokens"] = len(dropped)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if err := q.UpdateServiceAccount(ctx, sa); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionServiceAccountUpdated, saPrincipal(sa), changes)
	})
	if err == nil {
		a.changed(ctx, dropped...)
	}
	return sa, err
}

// SetServiceAccountStatus disables or enables a service account;
// super_admin only. While disabled its secrets and tokens are refused
// everywhere (S7). Disabling also revokes its live access tokens, so after
// enabling the token endpoint mints a fresh one.
func (a *App) SetServiceAccountStatus(ctx context.Context, ac Actor, slug, id string, enabled bool) (*tollgate.ServiceAccount, error) {
	ctx, span := tracer.Start(ctx, "app.SetServiceAccountStatus")
	defer span.End()
	status, action := tollgate.StatusDisabled, tollgate.ActionServiceAccountDisabled
	if enabled {
		status, action = tollgate.StatusActive, tollgate.ActionServiceAccountEnabled
	}
	var sa *tollgate.ServiceAccount
	var dropped []tollgate.Change
	err := a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, got *tollgate.ServiceAccount) error {
		sa, dropped = got, nil
		if sa.Status == status {
			return nil
		}
		sa.Status = status
		var details map[string]any
		if !enabled {
			// Disabling revokes the live tokens, so that enabling again
			// does not bring back tokens an admin meant to stop.
			var err error
			if dropped, err = a.revokeAccessTokensOf(ctx, q, sa.ID); err != nil {
				return err
			}
			details = map[string]any{"revoked_access_tokens": len(dropped)}
			sa.ReuseAfter = a.now()
		}
		if err := q.UpdateServiceAccount(ctx, sa); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, action, saPrincipal(sa), details)
	})
	if err == nil {
		a.changed(ctx, dropped...)
	}
	return sa, err
}

// revokeAccessTokensOf revokes the account's live access tokens in q and
// returns the changes that drop each one from every process's cache, for
// the caller to broadcast once q commits: a cached token is otherwise
// accepted until its entry ages out, by then perhaps on an account enabled
// again. A record that cannot be unsealed (a key file replaced) makes the
// change ChangeEverything, so that nothing revoked stays accepted.
func (a *App) revokeAccessTokensOf(ctx context.Context, q tollgate.Queries, serviceAccountID string) ([]tollgate.Change, error) {
	revoked, err := q.RevokeAccessTokensOf(ctx, serviceAccountID, a.now())
	if err != nil {
		return nil, err
	}
	return a.droppedAccessTokens(ctx, revoked), nil
}

// droppedAccessTokens returns the changes that drop the revoked access
// tokens from every process's cache (revokeAccessTokensOf).
func (a *App) droppedAccessTokens(ctx context.Context, revoked []tollgate.AccessToken) []tollgate.Change {
	out := make([]tollgate.Change, 0, len(revoked))
	for _, t := range revoked {
		jwt, err := a.cfg.Keyring.Open(t.Sealed, t.ID)
		if err != nil {
			a.log.WarnContext(ctx, "unsealing a revoked access token to drop it from caches", "jti", t.ID, "err", err)
			return append(out[:0], tollgate.Change{Kind: tollgate.ChangeEverything})
		}
		out = append(out, tollgate.CredentialChanged(a.cfg.Keyring.Hash(string(jwt))))
	}
	return out
}

// RotationResult is a new client secret, shown once, and until when the
// previous one keeps working (nil when there was none).
type RotationResult struct {
	ServiceAccount          *tollgate.ServiceAccount
	ClientSecret            string
	PreviousSecretExpiresAt *time.Time
}

// RotateSecret gives the account a new client secret; super_admin only
// (C3). The current secret keeps working for the grace period (0 to 7
// days); any older secret still in its grace period stops now, so at most
// two secrets are ever live. Tokens minted before the rotation are not
// handed out again.
func (a *App) RotateSecret(ctx context.Context, ac Actor, slug, id string, grace time.Duration) (*RotationResult, error) {
	ctx, span := tracer.Start(ctx, "app.RotateSecret")
	defer span.End()
	if grace < 0 || grace > tollgate.MaxSecretGracePeriod {
		return nil, tollgate.Invalidf("grace_period_seconds", "grace_period_seconds must be between 0 and %d (7 days)", int(tollgate.MaxSecretGracePeriod.Seconds()))
	}
	now := a.now()
	secret := credential.NewCredential(credential.PrefixClientSecret)
	res := &RotationResult{ClientSecret: secret}
	err := a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error {
		secrets, err := q.ListClientSecrets(ctx, sa.ID)
		if err != nil {
			return err
		}
		previous := true // the newest live secret gets the grace period
		res.PreviousSecretExpiresAt = nil
		for _, s := range secrets {
			if !s.LiveAt(now) {
				continue
			}
			until := now
			if previous {
				until = now.Add(grace)
				if s.ExpiresAt != nil && s.ExpiresAt.Before(until) {
					until = *s.ExpiresAt
				}
				res.PreviousSecretExpiresAt = &until
				previous = false
			}
			if err := q.ExpireClientSecret(ctx, s.ID, until); err != nil {
				return err
			}
		}
		if err := q.DeleteClientSecretsExpiredBefore(ctx, sa.ID, now); err != nil {
			return err
		}
		if err := q.CreateClientSecret(ctx, &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, now),
			ServiceAccountID: sa.ID, Hash: a.cfg.Keyring.Hash(secret), CreatedAt: now}); err != nil {
			return err
		}
		if err := a.stopReuse(ctx, q, sa); err != nil {
			return err
		}
		res.ServiceAccount = sa
		details := map[string]any{"grace_period_seconds": int(grace.Seconds())}
		if res.PreviousSecretExpiresAt != nil {
			details["previous_secret_expires_at"] = *res.PreviousSecretExpiresAt
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionServiceAccountSecretRotated, saPrincipal(sa), details)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// DeleteServiceAccount deletes the account with its secrets and access
// tokens, which stop working at once (S8); its audit history stays.
// super_admin only.
func (a *App) DeleteServiceAccount(ctx context.Context, ac Actor, slug, id string) error {
	ctx, span := tracer.Start(ctx, "app.DeleteServiceAccount")
	defer span.End()
	defer a.changed(ctx, tollgate.ServiceAccountChanged(id))
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		sa, err := a.serviceAccount(ctx, q, org, id)
		if err != nil {
			return err
		}
		if err := q.DeleteServiceAccount(ctx, org.ID, sa.ID); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionServiceAccountDeleted, saPrincipal(sa), map[string]any{"name": sa.Name, "email": sa.Email})
	})
}
