package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	api "github.com/tollgate/tollgate/client"
)

var serviceAccountColumns = []column[api.ServiceAccount]{
	{"id", func(s api.ServiceAccount) string { return s.Id }},
	{"name", func(s api.ServiceAccount) string { return s.Name }},
	{"role", func(s api.ServiceAccount) string { return string(s.Role) }},
	{"status", func(s api.ServiceAccount) string { return string(s.Status) }},
	{"token_ttl", func(s api.ServiceAccount) string { return (time.Duration(s.TokenTtlSeconds) * time.Second).String() }},
	{"last_used_at", func(s api.ServiceAccount) string { return when(s.LastUsedAt) }},
}

var serviceAccountFields = append(serviceAccountColumns[:2:2],
	column[api.ServiceAccount]{"email", func(s api.ServiceAccount) string { return s.Email }},
	column[api.ServiceAccount]{"description", func(s api.ServiceAccount) string { return orDash(s.Description) }},
	column[api.ServiceAccount]{"role", func(s api.ServiceAccount) string { return string(s.Role) }},
	column[api.ServiceAccount]{"status", func(s api.ServiceAccount) string { return string(s.Status) }},
	column[api.ServiceAccount]{"token_ttl_seconds", func(s api.ServiceAccount) string { return strconv.Itoa(s.TokenTtlSeconds) }},
	column[api.ServiceAccount]{"require_dpop", func(s api.ServiceAccount) string { return strconv.FormatBool(s.RequireDpop != nil && *s.RequireDpop) }},
	column[api.ServiceAccount]{"client_id", func(s api.ServiceAccount) string { return s.ClientId }},
	column[api.ServiceAccount]{"token_endpoint", func(s api.ServiceAccount) string { return s.TokenEndpoint }},
	column[api.ServiceAccount]{"created_at", func(s api.ServiceAccount) string { return at(s.CreatedAt) }},
	column[api.ServiceAccount]{"created_by", func(s api.ServiceAccount) string { return s.CreatedBy }},
	column[api.ServiceAccount]{"last_used_at", func(s api.ServiceAccount) string { return when(s.LastUsedAt) }},
)

var clientKeyColumns = []column[api.ClientKey]{
	{"id", func(k api.ClientKey) string { return k.Id }},
	{"kid", func(k api.ClientKey) string { return k.Kid }},
	{"alg", func(k api.ClientKey) string { return string(k.Alg) }},
	{"thumbprint", func(k api.ClientKey) string { return k.Thumbprint }},
	{"expires_at", func(k api.ClientKey) string { return when(k.ExpiresAt) }},
	{"last_used_at", func(k api.ClientKey) string { return when(k.LastUsedAt) }},
}

var federatedColumns = []column[api.FederatedCredential]{
	{"id", func(f api.FederatedCredential) string { return f.Id }},
	{"name", func(f api.FederatedCredential) string { return f.Name }},
	{"issuer", func(f api.FederatedCredential) string { return f.Issuer }},
	{"audience", func(f api.FederatedCredential) string { return f.Audience }},
	{"subject", func(f api.FederatedCredential) string { return ptrOrDash(f.Subject) }},
	{"claims", func(f api.FederatedCredential) string { return claimsText(f.Claims) }},
	{"last_used_at", func(f api.FederatedCredential) string { return when(f.LastUsedAt) }},
}

func claimsText(c map[string]string) string {
	if len(c) == 0 {
		return "-"
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// withSecret is a created account as the API answers it, printed with its
// secret.
func withSecret(sa *api.ServiceAccountWithSecret) (api.ServiceAccount, []column[api.ServiceAccount]) {
	secret := sa.ClientSecret
	v := api.ServiceAccount{ClientId: sa.ClientId, ClientSecret: &secret, CreatedAt: sa.CreatedAt, CreatedBy: sa.CreatedBy, Description: sa.Description,
		Email: sa.Email, Id: sa.Id, LastUsedAt: sa.LastUsedAt, Name: sa.Name, RequireDpop: sa.RequireDpop, Role: sa.Role, Status: sa.Status,
		TokenEndpoint: sa.TokenEndpoint, TokenTtlSeconds: sa.TokenTtlSeconds}
	return v, append(serviceAccountFields[:len(serviceAccountFields):len(serviceAccountFields)],
		column[api.ServiceAccount]{"client_secret", func(s api.ServiceAccount) string { return *s.ClientSecret }})
}

func serviceAccountsGroup() group {
	one := func(ctx context.Context, c *adminCall, call func() (*api.ServiceAccount, error)) error {
		sa, err := call()
		if err != nil {
			return err
		}
		return printOne(c.out, *sa, serviceAccountFields)
	}
	return group{
		name:    "service-accounts",
		aliases: []string{"sa"},
		summary: "Service accounts: non-human members of an organization, with a role and credentials.",
		groups:  []group{clientKeysGroup(), federatedGroup()},
		verbs: []verb{
			{name: "list", summary: "list the organization's service accounts", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				limit := fs.Int("limit", 0, "list at most this many (0: all)")
				return func(ctx context.Context, c *adminCall, _ []string) error {
					items, err := collect(c.api.ServiceAccounts(ctx, c.org), *limit)
					if err != nil {
						return err
					}
					return printList(c.out, items, serviceAccountColumns)
				}
			}},
			{name: "create", summary: "create a service account (super_admin); its client secret is shown once", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				name := fs.String("name", "", "1–20 letters, digits, '-' and '_', unique in the organization; cannot be changed (required)")
				role := fs.String("role", "", "admin, member or viewer (required)")
				ttl := fs.Duration("token-ttl", time.Hour, "lifetime of its access tokens, 5m to 720h; cannot be changed")
				desc := fs.String("description", "", "what it is for, at most 140 characters")
				return func(ctx context.Context, c *adminCall, _ []string) error {
					if *name == "" || *role == "" {
						return &usageError{msg: "service-accounts create needs --name and --role"}
					}
					if *ttl%time.Second != 0 {
						return &usageError{msg: "--token-ttl must be whole seconds"}
					}
					sa, err := c.api.CreateServiceAccount(ctx, c.org, api.NewServiceAccount{Name: *name, Description: *desc, Role: api.CredentialRole(*role), TokenTTL: *ttl})
					if err != nil {
						return err
					}
					v, cols := withSecret(sa)
					if err := printOne(c.out, v, cols); err != nil {
						return err
					}
					shownOnce(c.stderr, "client secret")
					return nil
				}
			}},
			{name: "get", args: []string{"ID"}, summary: "show a service account", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					return one(ctx, c, func() (*api.ServiceAccount, error) {
						return api.Decode[api.ServiceAccount](c.api.GetServiceAccount(ctx, c.org, args[0]))
					})
				}
			}},
			{name: "update", args: []string{"ID"}, summary: "change a service account's description, role or DPoP requirement (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				var desc, role, dpop stringFlag
				fs.Var(&desc, "description", "the new description")
				fs.Var(&role, "role", "the new role: admin, member or viewer (its tokens' roles are lowered to it)")
				fs.Var(&dpop, "require-dpop", "true: the token endpoint issues it only DPoP-bound tokens")
				return func(ctx context.Context, c *adminCall, args []string) error {
					body := api.UpdateServiceAccountJSONRequestBody{Description: desc.ptr(), Role: role.ptr()}
					if dpop.set {
						b, err := strconv.ParseBool(dpop.value)
						if err != nil {
							return &usageError{msg: fmt.Sprintf("--require-dpop must be true or false, not %q", dpop.value)}
						}
						body.RequireDpop = &b
					}
					if !desc.set && !role.set && !dpop.set {
						return &usageError{msg: "service-accounts update needs --description, --role or --require-dpop (name and token TTL cannot be changed)"}
					}
					return one(ctx, c, func() (*api.ServiceAccount, error) {
						return api.Decode[api.ServiceAccount](c.api.UpdateServiceAccount(ctx, c.org, args[0], body))
					})
				}
			}},
			{name: "disable", args: []string{"ID"}, summary: "disable a service account: its credentials stop working at once (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					return one(ctx, c, func() (*api.ServiceAccount, error) {
						return api.Decode[api.ServiceAccount](c.api.DisableServiceAccount(ctx, c.org, args[0]))
					})
				}
			}},
			{name: "enable", args: []string{"ID"}, summary: "enable a disabled service account (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					return one(ctx, c, func() (*api.ServiceAccount, error) {
						return api.Decode[api.ServiceAccount](c.api.EnableServiceAccount(ctx, c.org, args[0]))
					})
				}
			}},
			{name: "rotate", args: []string{"ID"}, summary: "give a service account a new client secret, shown once (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				grace := fs.Duration("grace", 0, "how long the previous secret keeps working (0: it stops now)")
				return func(ctx context.Context, c *adminCall, args []string) error {
					if *grace < 0 || *grace%time.Second != 0 {
						return &usageError{msg: "--grace must be whole seconds, at least 0"}
					}
					rot, err := c.api.RotateSecret(ctx, c.org, args[0], *grace)
					if err != nil {
						return err
					}
					if err := printOne(c.out, *rot, []column[api.SecretRotation]{
						{"client_id", func(r api.SecretRotation) string { return r.ClientId }},
						{"client_secret", func(r api.SecretRotation) string { return r.ClientSecret }},
						{"previous_secret_expires_at", func(r api.SecretRotation) string { return when(r.PreviousSecretExpiresAt) }},
					}); err != nil {
						return err
					}
					shownOnce(c.stderr, "client secret")
					return nil
				}
			}},
			{name: "delete", args: []string{"ID"}, summary: "delete a service account with its secrets and tokens (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					if err := api.NoContent(c.api.DeleteServiceAccount(ctx, c.org, args[0])); err != nil {
						return err
					}
					fmt.Fprintf(c.stderr, "tollgate: deleted %s\n", args[0])
					return nil
				}
			}},
		},
	}
}

// clientKeysGroup is "tollgate service-accounts keys": the public keys of
// private_key_jwt.
func clientKeysGroup() group {
	return group{
		name:    "keys",
		summary: "Public keys a service account signs client assertions with (private_key_jwt), instead of a secret.",
		verbs: []verb{
			{name: "list", args: []string{"ID"}, summary: "list the public keys service account ID signs client assertions with", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					l, err := api.Decode[api.ClientKeyList](c.api.ListServiceAccountKeys(ctx, c.org, args[0]))
					if err != nil {
						return err
					}
					return printList(c.out, l.Items, clientKeyColumns)
				}
			}},
			{name: "add", args: []string{"ID", "JWK_FILE"}, summary: "register a public JWK (a file, or - for stdin) for service account ID (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				expires := fs.String("expires-at", "", "when the key stops being accepted: an RFC 3339 time, or a duration from now such as 2160h")
				return func(ctx context.Context, c *adminCall, args []string) error {
					exp, err := parseTime("expires-at", *expires)
					if err != nil {
						return err
					}
					raw, err := readInput(c.stdin, args[1])
					if err != nil {
						return err
					}
					var jwk map[string]any
					if err := json.Unmarshal(raw, &jwk); err != nil {
						return &usageError{msg: fmt.Sprintf("%s is not a JWK (a JSON object): %v", args[1], err)}
					}
					body := api.AddServiceAccountKeyJSONRequestBody{ExpiresAt: exp}
					if err := body.PublicKey.FromAddServiceAccountKeyJSONBodyPublicKey0(jwk); err != nil {
						return err
					}
					k, err := api.Decode[api.ClientKey](c.api.AddServiceAccountKey(ctx, c.org, args[0], body))
					if err != nil {
						return err
					}
					return printOne(c.out, *k, clientKeyColumns)
				}
			}},
			{name: "delete", args: []string{"ID", "KEY_ID"}, summary: "remove a public key (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					if err := api.NoContent(c.api.DeleteServiceAccountKey(ctx, c.org, args[0], args[1])); err != nil {
						return err
					}
					fmt.Fprintf(c.stderr, "tollgate: deleted %s\n", args[1])
					return nil
				}
			}},
		},
	}
}

// federatedGroup is "tollgate service-accounts federated-credentials":
// workload identity federation.
func federatedGroup() group {
	return group{
		name:    "federated-credentials",
		summary: "External identities (a CI system's, a cloud's) whose tokens a service account accepts by token exchange.",
		verbs: []verb{
			{name: "list", args: []string{"ID"}, summary: "list the external identities that may act as service account ID", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					l, err := api.Decode[api.FederatedCredentialList](c.api.ListFederatedCredentials(ctx, c.org, args[0]))
					if err != nil {
						return err
					}
					return printList(c.out, l.Items, federatedColumns)
				}
			}},
			{name: "add", args: []string{"ID"}, summary: "trust tokens of an external issuer to act as service account ID (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				name := fs.String("name", "", "a name for it (required)")
				issuer := fs.String("issuer", "", "the issuer URL, compared exactly with the token's iss (required)")
				var audience, subject stringFlag
				fs.Var(&audience, "audience", "what the token's aud must hold (default: Tollgate's issuer URL)")
				fs.Var(&subject, "subject", "what the token's sub must be exactly")
				var claims listFlag
				fs.Var(&claims, "claim", "NAME=VALUE a claim the token must carry with exactly this value (repeatable)")
				return func(ctx context.Context, c *adminCall, args []string) error {
					if *name == "" || *issuer == "" {
						return &usageError{msg: "service-accounts federated-credentials add needs --name and --issuer"}
					}
					body := api.AddFederatedCredentialJSONRequestBody{Name: *name, Issuer: *issuer, Audience: audience.ptr(), Subject: subject.ptr()}
					if len(claims) > 0 {
						m := map[string]string{}
						for _, kv := range claims {
							k, v, ok := strings.Cut(kv, "=")
							if !ok || k == "" {
								return &usageError{msg: fmt.Sprintf("--claim must be NAME=VALUE, not %q", kv)}
							}
							m[k] = v
						}
						body.Claims = &m
					}
					f, err := api.Decode[api.FederatedCredential](c.api.AddFederatedCredential(ctx, c.org, args[0], body))
					if err != nil {
						return err
					}
					return printOne(c.out, *f, federatedColumns)
				}
			}},
			{name: "delete", args: []string{"ID", "FC_ID"}, summary: "remove a federated credential (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					if err := api.NoContent(c.api.DeleteFederatedCredential(ctx, c.org, args[0], args[1])); err != nil {
						return err
					}
					fmt.Fprintf(c.stderr, "tollgate: deleted %s\n", args[1])
					return nil
				}
			}},
		},
	}
}

// readInput reads a file, or stdin for "-", bounded.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	const max = 1 << 20
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return b, nil
}
