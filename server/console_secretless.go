package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// The account page's credentials that need no shared secret (K4): keys for
// private_key_jwt, federated credentials, and the DPoP switch.

// keyRow is a registered public key as the account page shows it.
type keyRow struct {
	ID, KeyID, Alg, Thumbprint, Added, Expires, LastUsed string
	Expired                                              bool
}

// fedRow is a federated credential as the account page shows it.
type fedRow struct {
	ID, Name, Issuer, Audience, Subject, LastUsed string
	DefaultAudience                               bool
	Claims                                        []string // "name = value", sorted
}

// keyForm is the Add key form as typed.
type keyForm struct{ PublicKey, Expires string }

// claimInput is one claim condition of the Add federated credential form.
type claimInput struct{ Name, Value, Placeholder string }

// fedForm is the Add federated credential form as typed, or as a template
// fills it.
type fedForm struct {
	Template, Name, Issuer, Audience, Subject string
	IssuerPlaceholder, SubjectPlaceholder     string
	Claims                                    []claimInput
}

// fedTemplate pre-fills the Add federated credential form for a well-known
// issuer, and says how a workload there gets its token.
type fedTemplate struct {
	ID, Label, Name, Issuer, IssuerPlaceholder, SubjectPlaceholder string
	Claims                                                         []claimInput // names with value placeholders
	// source tells how the workload gets $OIDC_TOKEN for audience aud.
	source      func(aud string) string
	SourceLabel string
}

// fedTemplates are offered in this order; the first is the default for
// the example of how a workload gets its token.
var fedTemplates = []fedTemplate{
	{ID: "github", Label: "GitHub Actions", Name: "github-actions", Issuer: "https://token.actions.githubusercontent.com",
		SubjectPlaceholder: "repo:<owner>/<repo>:environment:<env>",
		Claims:             []claimInput{{Name: "repository", Placeholder: "octo-org/octo-repo"}, {Name: "ref", Placeholder: "refs/heads/main"}, {Name: "environment", Placeholder: "production"}},
		SourceLabel:        "In a GitHub Actions step",
		source: func(aud string) string {
			return "# The job needs: permissions: id-token: write\n" +
				`OIDC_TOKEN=$(curl -sH "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=` + aud + `" | jq -r .value)`
		}},
	{ID: "gitlab", Label: "GitLab CI", Name: "gitlab-ci", Issuer: "https://gitlab.com",
		SubjectPlaceholder: "project_path:<group>/<project>:ref_type:branch:ref:<branch>",
		Claims:             []claimInput{{Name: "project_path", Placeholder: "my-group/my-project"}, {Name: "ref", Placeholder: "main"}},
		SourceLabel:        "In .gitlab-ci.yml (GitLab puts the token in $OIDC_TOKEN)",
		source: func(aud string) string {
			return "deploy:\n  id_tokens:\n    OIDC_TOKEN:\n      aud: " + aud
		}},
	{ID: "kubernetes", Label: "Kubernetes", Name: "kubernetes",
		IssuerPlaceholder:  "your cluster's issuer URL (kubectl get --raw /.well-known/openid-configuration)",
		SubjectPlaceholder: "system:serviceaccount:<namespace>:<name>",
		SourceLabel:        "In the pod spec (a projected service account token)",
		source: func(aud string) string {
			return "volumes:\n  - name: tollgate-token\n    projected:\n      sources:\n        - serviceAccountToken:\n" +
				"            audience: " + aud + "\n            path: token\n            expirationSeconds: 600\n" +
				"# mounted at /var/run/secrets/tollgate, then:\n" +
				"OIDC_TOKEN=$(cat /var/run/secrets/tollgate/token)"
		}},
}

func fedTemplateOf(id string) *fedTemplate {
	for i := range fedTemplates {
		if fedTemplates[i].ID == id {
			return &fedTemplates[i]
		}
	}
	return nil
}

// minClaimRows is how many claim conditions the form offers at least.
const minClaimRows = 3

// padClaims adds empty claim rows: at least minClaimRows, and one empty
// row to spare while there is room for another condition.
func padClaims(rows []claimInput) []claimInput {
	for len(rows) < minClaimRows || len(rows) < tollgate.MaxFederatedClaims && rows[len(rows)-1].Name != "" {
		rows = append(rows, claimInput{})
	}
	return rows
}

// fedFormFor is the empty form, or the form a template fills.
func fedFormFor(template string) fedForm {
	t := fedTemplateOf(template)
	if t == nil {
		return fedForm{Claims: padClaims(nil)}
	}
	return fedForm{Template: t.ID, Name: t.Name, Issuer: t.Issuer, IssuerPlaceholder: t.IssuerPlaceholder,
		SubjectPlaceholder: t.SubjectPlaceholder, Claims: padClaims(slices.Clone(t.Claims))}
}

// secretlessExamples are the requests a workload makes without a secret,
// with this account's client ID and token endpoint filled in.
type secretlessExamples struct {
	Key, Exchange, SourceLabel, Source string
}

func (s *Server) examplesFor(clientID, template, audience string) secretlessExamples {
	endpoint := s.app.TokenEndpoint()
	if audience == "" {
		audience = s.cfg.Issuer
	}
	t := fedTemplateOf(template)
	if t == nil {
		t = &fedTemplates[0]
	}
	return secretlessExamples{
		Key: "# CLIENT_ASSERTION is a JWT signed with your private key:\n" +
			"#   header: alg (EdDSA, ES256, RS256 or PS256) and the key's kid\n" +
			"#   iss and sub = " + clientID + "\n" +
			"#   aud = " + endpoint + "\n" +
			"#   exp ≤ 10 minutes ahead, and a unique jti\n" +
			"curl -d grant_type=client_credentials \\\n" +
			"  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\\n" +
			"  -d \"client_assertion=$CLIENT_ASSERTION\" \\\n" +
			"  " + endpoint,
		Exchange: "curl -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\\n" +
			"  -d \"subject_token=$OIDC_TOKEN\" \\\n" +
			"  -d subject_token_type=urn:ietf:params:oauth:token-type:jwt \\\n" +
			"  -d client_id=" + clientID + " \\\n" +
			"  " + endpoint,
		SourceLabel: t.SourceLabel,
		Source:      t.source(audience),
	}
}

const dayTime = "2 Jan 2006 15:04"

// secretlessView loads the account's keys and federated credentials, and
// the forms' defaults unless an action already filled them.
func (s *Server) secretlessView(r *http.Request, ac app.Actor, v *view) error {
	sa := v.Account
	keys, err := s.app.ListClientKeys(r.Context(), ac, v.Org.Slug, sa.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, k := range keys {
		row := keyRow{ID: k.ID, KeyID: k.KeyID, Alg: k.Algorithm, Thumbprint: k.Thumbprint, Added: k.CreatedAt.Format(dayTime),
			Expires: "never", LastUsed: "never"}
		if k.ExpiresAt != nil {
			row.Expires, row.Expired = k.ExpiresAt.Format(dayTime), !k.LiveAt(now)
		}
		if k.LastUsedAt != nil {
			row.LastUsed = k.LastUsedAt.Format(dayTime)
		}
		v.Keys = append(v.Keys, row)
	}
	fcs, err := s.app.ListFederatedCredentials(r.Context(), ac, v.Org.Slug, sa.ID)
	if err != nil {
		return err
	}
	for _, fc := range fcs {
		row := fedRow{ID: fc.ID, Name: fc.Name, Issuer: fc.Issuer, Audience: fc.Audience, Subject: fc.Subject, LastUsed: "never",
			DefaultAudience: fc.Audience == s.cfg.Issuer}
		for _, name := range slices.Sorted(maps.Keys(fc.Claims)) {
			row.Claims = append(row.Claims, name+" = "+fc.Claims[name])
		}
		if fc.LastUsedAt != nil {
			row.LastUsed = fc.LastUsedAt.Format(dayTime)
		}
		v.Feds = append(v.Feds, row)
	}
	if v.FedForm.Claims == nil {
		v.FedForm = fedFormFor(r.URL.Query().Get("template"))
	}
	v.Templates, v.Issuer = fedTemplates, s.cfg.Issuer
	v.Examples = s.examplesFor(sa.ID, v.FedForm.Template, v.FedForm.Audience)
	return nil
}

// looksPrivate reports whether a pasted key holds private material, which
// the page must not echo back.
func looksPrivate(text string) bool {
	if strings.Contains(text, "PRIVATE KEY") {
		return true
	}
	var members map[string]json.RawMessage
	if json.Unmarshal([]byte(strings.TrimSpace(text)), &members) != nil {
		return false
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := members[m]; ok {
			return true
		}
	}
	return false
}

// addKeyAction: POST /orgs/{org}/service-accounts/{id}/keys.
func (s *Server) addKeyAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	f := r.PostForm
	v.KeyForm = keyForm{PublicKey: f.Get("public_key"), Expires: f.Get("expires")}
	in := app.ClientKeyInput{PublicKey: []byte(v.KeyForm.PublicKey)}
	if v.KeyForm.Expires != "" {
		t, err := time.Parse("2006-01-02", v.KeyForm.Expires)
		if err != nil {
			return "", tollgate.Invalidf("expires_at", "choose a date")
		}
		end := t.Add(24*time.Hour - time.Second) // the end of that day, UTC
		in.ExpiresAt = &end
	}
	_, err := s.app.AddClientKey(r.Context(), ac, v.Org.Slug, r.PathValue("id"), in)
	if err != nil && looksPrivate(v.KeyForm.PublicKey) {
		// Never send a private key back, and say why the field is empty.
		v.KeyForm.PublicKey = ""
		if code := tollgate.ErrorCode(err); code == tollgate.EInvalid {
			err = &tollgate.Error{Code: code, Field: tollgate.ErrorField(err), Message: tollgate.ErrorMessage(err) + " (The pasted key was cleared from this page.)"}
		}
	}
	return "key_added", err
}

// deleteKeyAction: POST /orgs/{org}/service-accounts/{id}/keys/{key_id}/delete.
func (s *Server) deleteKeyAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	return "key_deleted", s.app.DeleteClientKey(r.Context(), ac, v.Org.Slug, r.PathValue("id"), r.PathValue("key_id"))
}

// addFederatedAction: POST /orgs/{org}/service-accounts/{id}/federated-credentials.
// Claim conditions come as claim_name and claim_value lists, paired by
// position; empty pairs are skipped.
func (s *Server) addFederatedAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	f := r.PostForm
	v.FedForm = fedForm{Template: f.Get("template"), Name: f.Get("name"), Issuer: f.Get("issuer"), Audience: f.Get("audience"), Subject: f.Get("subject")}
	placeholders := map[string]string{}
	if t := fedTemplateOf(v.FedForm.Template); t != nil {
		v.FedForm.IssuerPlaceholder, v.FedForm.SubjectPlaceholder = t.IssuerPlaceholder, t.SubjectPlaceholder
		for _, c := range t.Claims {
			placeholders[c.Name] = c.Placeholder
		}
	}
	names, values := f["claim_name"], f["claim_value"]
	claims := map[string]string{}
	var dup string
	for i := range max(len(names), len(values)) {
		var c claimInput
		if i < len(names) {
			c.Name = strings.TrimSpace(names[i])
		}
		if i < len(values) {
			c.Value = values[i]
		}
		if c.Name == "" && c.Value == "" {
			continue
		}
		c.Placeholder = placeholders[c.Name]
		v.FedForm.Claims = append(v.FedForm.Claims, c)
		if _, seen := claims[c.Name]; seen && dup == "" {
			dup = c.Name
		}
		claims[c.Name] = c.Value
	}
	v.FedForm.Claims = padClaims(v.FedForm.Claims)
	if dup != "" {
		return "", tollgate.Invalidf("claims", "claim %s is listed twice: a claim can have one exact value", dup)
	}
	_, err := s.app.AddFederatedCredential(r.Context(), ac, v.Org.Slug, r.PathValue("id"), app.FederatedCredentialInput{
		Name: v.FedForm.Name, Issuer: v.FedForm.Issuer, Audience: v.FedForm.Audience, Subject: v.FedForm.Subject, Claims: claims})
	return "federated_added", err
}

// deleteFederatedAction: POST …/federated-credentials/{fc_id}/delete.
func (s *Server) deleteFederatedAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	return "federated_deleted", s.app.DeleteFederatedCredential(r.Context(), ac, v.Org.Slug, r.PathValue("id"), r.PathValue("fc_id"))
}

// dpopAction: POST /orgs/{org}/service-accounts/{id}/dpop, require_dpop=on
// or absent (an unchecked box sends nothing).
func (s *Server) dpopAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	on := r.PostForm.Get("require_dpop") == "on"
	before, err := s.app.GetServiceAccount(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if _, err := s.app.UpdateServiceAccount(r.Context(), ac, v.Org.Slug, before.ID, app.ServiceAccountUpdate{RequireDPoP: &on}); err != nil {
		return "", err
	}
	if before.RequireDPoP == on {
		return "dpop_unchanged", nil
	}
	return fmt.Sprintf("dpop_%t", on), nil
}
