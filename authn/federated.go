package authn

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/oauth"
)

// federated authenticates a token exchange (RFC 8693) or JWT bearer
// (RFC 7523 §2.1) request: the workload's JWT, from an issuer one of the
// service account's federated credentials trusts, is the credential (K2).
// The issuer's keys are discovered and cached by the federation fetcher;
// the token must verify with one of them and meet every condition of a
// credential of its issuer. Every refusal is invalid_grant naming the
// condition that failed, and counts as a failure of the client ID and
// address; ERateLimited once they are over the limit.
func (a *Authenticator) federated(ctx context.Context, req Request) (app.Actor, error) {
	now := a.now()
	tr, err := oauth.ParseTokenRequest(req.Form)
	if err == nil && req.Authorization != "" {
		err = oauth.Fail(oauth.CodeInvalidRequest, "a federated grant authenticates with its JWT alone: leave out the Authorization header")
	}
	if err != nil {
		if wait, which := a.client.blocked("", req.IP, now); wait > 0 {
			return app.Actor{}, a.limited(ctx, req, a.client, "", which, wait)
		}
		a.failedNow(req, a.client, "", now)
		return app.Actor{}, err
	}
	g := tr.Federated
	limitID := g.ClientID
	if !tollgate.HasPrefix(limitID, tollgate.PrefixServiceAccount) {
		limitID = ""
	}
	if wait, which := a.client.blocked(limitID, req.IP, now); wait > 0 {
		return app.Actor{}, a.limited(ctx, req, a.client, limitID, which, wait)
	}
	tok, err := g.Token()
	var fc *tollgate.FederatedCredential
	if err == nil {
		fc, err = a.federatedMatch(ctx, g.ClientID, tok, now)
	}
	if err != nil {
		if oauth.CodeOf(err) == oauth.CodeInvalidGrant {
			a.failedNow(req, a.client, limitID, now)
		}
		return app.Actor{}, err
	}
	c, err := a.account(ctx, g.ClientID)
	if err != nil {
		return app.Actor{}, err
	}
	a.client.forget(limitID, req.IP)
	if c.sa.Status != tollgate.StatusActive {
		return app.Actor{}, oauth.Fail(oauth.CodeInvalidGrant, "this service account is disabled")
	}
	jkt, err := a.tokenProof(ctx, req)
	if err != nil {
		return app.Actor{}, err
	}
	a.used("", c.sa.ID, "")
	a.usedFederated(fc.ID)
	cl := &tok.Claims
	return c.actor(req, &app.Credential{Kind: tollgate.CredentialFederated, ID: fc.ID, Method: oauth.MethodFederated, JKT: jkt,
		ExternalIssuer: cl.Issuer, ExternalSubject: cl.Subject}), nil
}

// errNoFederation is the answer for a client ID without a credential for
// the token's issuer, whether the account exists or not.
var errNoFederation = oauth.Fail(oauth.CodeInvalidGrant, "no federated credential of this service account trusts the token's issuer")

// federatedMatch returns the federated credential of the account that the
// workload's token meets: of the token's issuer, with a key of that
// issuer that verifies the token's signature, and every condition.
func (a *Authenticator) federatedMatch(ctx context.Context, clientID string, tok *oauth.JWT, now time.Time) (*tollgate.FederatedCredential, error) {
	c, err := a.knownClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNoFederation
	}
	t, err := a.trust(ctx, c.sa.ID)
	if err != nil {
		return nil, err
	}
	var candidates []*tollgate.FederatedCredential
	for i := range t.feds {
		if t.feds[i].Issuer == tok.Claims.Issuer {
			candidates = append(candidates, &t.feds[i])
		}
	}
	if len(candidates) == 0 {
		return nil, errNoFederation
	}
	keys, err := a.federation.Keys(ctx, tok.Claims.Issuer, tok.Header.Kid)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, oauth.Fail(oauth.CodeInvalidGrant, err.Error())
	}
	if tok.Header.Kid == "" && len(keys) > 1 {
		return nil, oauth.Fail(oauth.CodeInvalidGrant, "the workload's token names no kid, and its issuer publishes several keys")
	}
	verified := false
	for _, k := range keys {
		if tok.Verify(k) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, oauth.Fail(oauth.CodeInvalidGrant, "the workload's token's signature does not verify with the issuer's published keys")
	}
	var first error
	for _, fc := range candidates {
		err := oauth.CheckFederated(tok, fc, now)
		if err == nil {
			return fc, nil
		}
		if first == nil {
			first = err
		}
	}
	if len(candidates) > 1 {
		return nil, oauth.Fail(oauth.CodeInvalidGrant, "the workload's token meets none of this service account's federated credentials for its issuer; the first says: "+
			tollgate.ErrorMessage(first))
	}
	return nil, first
}
