package app

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/oauth"
)

// ClientKeyInput registers a public key: a JWK or a PEM public key, and an
// optional expiry.
type ClientKeyInput struct {
	PublicKey []byte
	ExpiresAt *time.Time
}

// FederatedCredentialInput creates a federated credential; Audience ""
// means this server's issuer URL.
type FederatedCredentialInput struct {
	Name, Issuer, Audience, Subject string
	Claims                          map[string]string
}

// readAccount checks that ac may read the org's account id (admin or
// higher) and returns it.
func (a *App) readAccount(ctx context.Context, ac Actor, slug, id string) (*tollgate.ServiceAccount, error) {
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return a.serviceAccount(ctx, a.store, org, id)
}

// changeAccount runs fn on the org's account id in one transaction, for ac
// as its super_admin, and broadcasts the account's change once it is
// committed (every replica drops what it cached of the account's keys and
// federated credentials).
func (a *App) changeAccount(ctx context.Context, ac Actor, slug, id string, fn func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error) error {
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		sa, err := a.serviceAccount(ctx, q, org, id)
		if err != nil {
			return err
		}
		return fn(q, org, sa)
	})
	if err == nil {
		a.changed(ctx, tollgate.ServiceAccountChanged(id))
	}
	return err
}

// stopReuse moves the account's ReuseAfter to now, inside q: the token
// endpoint mints anew instead of handing out a token that a credential
// just removed may have obtained (T2).
func (a *App) stopReuse(ctx context.Context, q tollgate.Queries, sa *tollgate.ServiceAccount) error {
	sa.ReuseAfter = a.now()
	return q.UpdateServiceAccount(ctx, sa)
}

// ListClientKeys returns the account's registered public keys; admin or
// higher.
func (a *App) ListClientKeys(ctx context.Context, ac Actor, slug, id string) ([]tollgate.ClientKey, error) {
	ctx, span := tracer.Start(ctx, "app.ListClientKeys")
	defer span.End()
	sa, err := a.readAccount(ctx, ac, slug, id)
	if err != nil {
		return nil, err
	}
	return a.store.ListClientKeys(ctx, sa.ID)
}

// AddClientKey registers a public key for private_key_jwt (K1);
// super_admin only. The key must be an EdDSA, ES256, RS256 or PS256 public
// key (RSA of 2048 bits or more): a private or symmetric key is EInvalid
// on field public_key. Its kid is the JWK's, else its thumbprint; a kid or
// key the account has already is EConflict. At most MaxClientKeys.
func (a *App) AddClientKey(ctx context.Context, ac Actor, slug, id string, in ClientKeyInput) (*tollgate.ClientKey, error) {
	ctx, span := tracer.Start(ctx, "app.AddClientKey")
	defer span.End()
	pk, err := oauth.ParsePublicKey(in.PublicKey)
	if err != nil {
		return nil, err
	}
	now := a.now()
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			return nil, tollgate.Invalidf("expires_at", "expires_at must be in the future")
		}
		t := tollgate.Timestamp(*in.ExpiresAt)
		in.ExpiresAt = &t
	}
	var k *tollgate.ClientKey
	err = a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error {
		existing, err := q.ListClientKeys(ctx, sa.ID)
		if err != nil {
			return err
		}
		if len(existing) >= tollgate.MaxClientKeys {
			return tollgate.Invalidf("public_key", "a service account can have at most %d keys: delete one first", tollgate.MaxClientKeys)
		}
		k = &tollgate.ClientKey{ID: tollgate.NewID(tollgate.PrefixClientKey, now), ServiceAccountID: sa.ID, KeyID: pk.KeyID, Algorithm: pk.Alg,
			Thumbprint: pk.Thumbprint, JWK: pk.JWK, CreatedAt: now, CreatedBy: ac.ID, ExpiresAt: in.ExpiresAt}
		if err := q.CreateClientKey(ctx, k); err != nil {
			if tollgate.ErrorCode(err) == tollgate.EConflict {
				return &tollgate.Error{Code: tollgate.EConflict, Field: "public_key",
					Message: "this service account already has this key, or another key with kid " + pk.KeyID}
			}
			return err
		}
		details := map[string]any{"key_id": k.ID, "kid": k.KeyID, "alg": k.Algorithm, "thumbprint": k.Thumbprint}
		if k.ExpiresAt != nil {
			details["expires_at"] = *k.ExpiresAt
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionClientKeyAdded, saPrincipal(sa), details)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteClientKey removes a registered key: assertions signed with it are
// refused at once on every replica, and the account's current tokens
// (one may have come from that key) are not handed out again. Tokens
// already out stay valid until they expire; revoke them if the key
// leaked. super_admin only.
func (a *App) DeleteClientKey(ctx context.Context, ac Actor, slug, id, keyID string) error {
	ctx, span := tracer.Start(ctx, "app.DeleteClientKey")
	defer span.End()
	return a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error {
		keys, err := q.ListClientKeys(ctx, sa.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID != keyID {
				continue
			}
			if err := q.DeleteClientKey(ctx, sa.ID, k.ID); err != nil {
				return err
			}
			if err := a.stopReuse(ctx, q, sa); err != nil {
				return err
			}
			return a.audit(ctx, q, ac, org.ID, tollgate.ActionClientKeyDeleted, saPrincipal(sa),
				map[string]any{"key_id": k.ID, "kid": k.KeyID, "thumbprint": k.Thumbprint})
		}
		return tollgate.Errorf(tollgate.ENotFound, "key %q not found on service account %s", keyID, sa.Name)
	})
}

// ListFederatedCredentials returns the account's federated credentials;
// admin or higher.
func (a *App) ListFederatedCredentials(ctx context.Context, ac Actor, slug, id string) ([]tollgate.FederatedCredential, error) {
	ctx, span := tracer.Start(ctx, "app.ListFederatedCredentials")
	defer span.End()
	sa, err := a.readAccount(ctx, ac, slug, id)
	if err != nil {
		return nil, err
	}
	return a.store.ListFederatedCredentials(ctx, sa.ID)
}

// AddFederatedCredential lets the account trust an external issuer's
// tokens under exact conditions (K2); super_admin only. Every rule of
// tollgate.ValidateFederatedCredential is checked and named; a name the
// account has already, ignoring case, is EConflict.
func (a *App) AddFederatedCredential(ctx context.Context, ac Actor, slug, id string, in FederatedCredentialInput) (*tollgate.FederatedCredential, error) {
	ctx, span := tracer.Start(ctx, "app.AddFederatedCredential")
	defer span.End()
	now := a.now()
	fc := &tollgate.FederatedCredential{ID: tollgate.NewID(tollgate.PrefixFederatedCredential, now), Name: in.Name, Issuer: in.Issuer,
		Audience: in.Audience, Subject: in.Subject, Claims: in.Claims, CreatedAt: now, CreatedBy: ac.ID}
	if fc.Audience == "" {
		fc.Audience = a.cfg.Issuer
	}
	if fc.Claims == nil {
		fc.Claims = map[string]string{}
	}
	if err := tollgate.ValidateFederatedCredential(fc, a.cfg.FederationInsecureIssuers); err != nil {
		return nil, err
	}
	err := a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error {
		existing, err := q.ListFederatedCredentials(ctx, sa.ID)
		if err != nil {
			return err
		}
		if len(existing) >= tollgate.MaxFederatedCredentials {
			return tollgate.Invalidf("name", "a service account can have at most %d federated credentials: delete one first", tollgate.MaxFederatedCredentials)
		}
		fc.ServiceAccountID = sa.ID
		if err := q.CreateFederatedCredential(ctx, fc); err != nil {
			if tollgate.ErrorCode(err) == tollgate.EConflict {
				return &tollgate.Error{Code: tollgate.EConflict, Field: "name",
					Message: "this service account already has a federated credential named " + fc.Name + " (names are unique ignoring case)"}
			}
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionFederatedCredentialAdded, saPrincipal(sa), map[string]any{
			"federated_credential_id": fc.ID, "name": fc.Name, "issuer": fc.Issuer, "audience": fc.Audience, "subject": fc.Subject, "claims": fc.Claims})
	})
	if err != nil {
		return nil, err
	}
	return fc, nil
}

// DeleteFederatedCredential removes a federated credential: its workloads'
// tokens are refused at once on every replica, and the account's current
// access tokens are not handed out again; super_admin only.
func (a *App) DeleteFederatedCredential(ctx context.Context, ac Actor, slug, id, fcID string) error {
	ctx, span := tracer.Start(ctx, "app.DeleteFederatedCredential")
	defer span.End()
	return a.changeAccount(ctx, ac, slug, id, func(q tollgate.Queries, org *tollgate.Org, sa *tollgate.ServiceAccount) error {
		fcs, err := q.ListFederatedCredentials(ctx, sa.ID)
		if err != nil {
			return err
		}
		for _, fc := range fcs {
			if fc.ID != fcID {
				continue
			}
			if err := q.DeleteFederatedCredential(ctx, sa.ID, fc.ID); err != nil {
				return err
			}
			if err := a.stopReuse(ctx, q, sa); err != nil {
				return err
			}
			return a.audit(ctx, q, ac, org.ID, tollgate.ActionFederatedCredentialDeleted, saPrincipal(sa),
				map[string]any{"federated_credential_id": fc.ID, "name": fc.Name, "issuer": fc.Issuer})
		}
		return tollgate.Errorf(tollgate.ENotFound, "federated credential %q not found on service account %s", fcID, sa.Name)
	})
}
