package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// ReportLeaked takes a secret scanner's report (P3): each entry holding a
// Tollgate credential that exists is revoked at once, in every process,
// with a credential.leaked event in its org, and answered true_positive.
// Everything else is false_positive, alike: a token that does not exist,
// one already revoked or expired (an API token past expires_at, an ended
// CLI session), one with a bad checksum, or not Tollgate's. The
// caller is anyone (the HTTP layer limits the rate), so nothing in the
// answer or its errors says more than the reporter already holds.
//
// Recognised by prefix and checksum (credential.ValidCredential): API
// tokens (tgp_, tgq_), client secrets (tgs_) and CLI sessions (tgc_). A
// client secret is expired now, and its account's access tokens are
// revoked with it, since they may have been minted with it. One expired
// already mints nothing, but the access tokens minted with it still open
// the API until they expire: they are revoked, and the entry is a true
// positive; one whose tokens are all gone is a false positive, as a spent
// token is.
func (a *App) ReportLeaked(ctx context.Context, ac Actor, reports []tollgate.LeakReport) ([]tollgate.LeakVerdict, error) {
	ctx, span := tracer.Start(ctx, "app.ReportLeaked")
	defer span.End()
	if len(reports) > tollgate.MaxLeakReports {
		return nil, tollgate.Invalidf("", "a report holds at most %d tokens; send the rest in another", tollgate.MaxLeakReports)
	}
	ac.Type, ac.ID, ac.Name = tollgate.PrincipalAnonymous, "", "secret scanner"
	out := make([]tollgate.LeakVerdict, len(reports))
	seen := map[string]string{} // token → label, for a token reported twice
	for i, r := range reports {
		sum := sha256.Sum256([]byte(r.Token))
		out[i] = tollgate.LeakVerdict{TokenHash: hex.EncodeToString(sum[:]), TokenType: r.Type, Label: tollgate.LeakFalsePositive}
		if label, ok := seen[r.Token]; ok {
			out[i].Label = label
			continue
		}
		found, err := a.revokeLeaked(ctx, ac, r)
		if err != nil {
			return nil, err
		}
		if found {
			out[i].Label = tollgate.LeakTruePositive
		}
		seen[r.Token] = out[i].Label
	}
	return out, nil
}

// revokeLeaked revokes the credential r names and reports whether there
// was one.
func (a *App) revokeLeaked(ctx context.Context, ac Actor, r tollgate.LeakReport) (bool, error) {
	where := map[string]any{"url": tollgate.PlainCut(r.URL, tollgate.MaxLeakURLLength),
		"source": tollgate.PlainCut(r.Source, tollgate.MaxLeakSourceLength), "type": tollgate.PlainCut(r.Type, tollgate.MaxLeakSourceLength)}
	var changes []tollgate.Change
	tok := r.Token
	found := false
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		found, changes = false, nil
		switch {
		case credential.ValidCredential(credential.PrefixPrivateToken, tok), credential.ValidCredential(credential.PrefixPublicToken, tok):
			hash := a.cfg.Keyring.Hash(tok)
			t, err := q.GetAPITokenByHash(ctx, hash)
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return nil
			} else if err != nil {
				return err
			}
			if t.ExpiresAt != nil && !a.now().Before(*t.ExpiresAt) {
				return nil // expired already: it opens nothing, and its record stays
			}
			if err := q.DeleteAPIToken(ctx, t.OrgID, t.ID); err != nil {
				return err
			}
			found, changes = true, []tollgate.Change{tollgate.CredentialChanged(hash)}
			return a.audit(ctx, q, ac, t.OrgID, tollgate.ActionCredentialLeaked, tokenPrincipal(&t.APIToken),
				with(where, "credential", "api_token", "kind", t.Kind, "owner_id", t.OwnerID, "revoked", true))
		case credential.ValidCredential(credential.PrefixClientSecret, tok):
			sec, err := q.GetClientSecretByHash(ctx, a.cfg.Keyring.Hash(tok))
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return nil
			} else if err != nil {
				return err
			}
			now := a.now()
			live := sec.LiveAt(now)
			var dropped []tollgate.Change
			if live {
				if err := q.ExpireClientSecret(ctx, sec.ID, now); err != nil {
					return err
				}
				if dropped, err = a.revokeAccessTokensOf(ctx, q, sec.ServiceAccountID); err != nil {
					return err
				}
			} else {
				// Expired already, it mints nothing more; but the access
				// tokens minted with it before live on until they expire.
				revoked, err := q.RevokeAccessTokensOfSecret(ctx, sec.ServiceAccountID, sec.ID, now)
				if err != nil {
					return err
				}
				if len(revoked) == 0 {
					return nil // it opens nothing: spent
				}
				dropped = a.droppedAccessTokens(ctx, revoked)
			}
			sa, err := q.GetServiceAccountByID(ctx, sec.ServiceAccountID)
			if err != nil {
				return err
			}
			if err := a.stopReuse(ctx, q, sa); err != nil {
				return err
			}
			found, changes = true, append(dropped, tollgate.ServiceAccountChanged(sa.ID))
			return a.audit(ctx, q, ac, sa.OrgID, tollgate.ActionCredentialLeaked, saPrincipal(sa),
				with(where, "credential", "client_secret", "secret_id", sec.ID, "revoked", true, "expired_before", !live, "revoked_access_tokens", len(dropped)))
		case credential.ValidCredential(credential.PrefixCLISession, tok):
			hash := credential.Hash(tok)
			s, err := q.GetSession(ctx, hash)
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return nil
			} else if err != nil {
				return err
			}
			if s.Kind != tollgate.SessionCLI || a.cfg.Sessions.Ended(s, a.now()) {
				return nil // ended already (or not a CLI session): it opens nothing
			}
			if err := q.DeleteSession(ctx, hash); err != nil {
				return err
			}
			u, err := q.GetUser(ctx, s.UserID)
			if err != nil {
				return err
			}
			found = true // every request reads its session: nothing to broadcast
			return a.auditInOrgsOf(ctx, q, u.ID, ac, tollgate.ActionCredentialLeaked,
				tollgate.Principal{Type: tollgate.PrincipalUser, ID: u.ID, Name: u.Email},
				with(where, "credential", "cli_session", "session", s.ID, "revoked", true))
		}
		return nil
	})
	if err == nil {
		a.changed(ctx, changes...)
	}
	return found, err
}

// with returns a copy of m with the key-value pairs kv added.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
