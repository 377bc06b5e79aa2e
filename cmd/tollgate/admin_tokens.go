package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"strings"

	api "github.com/tollgate/tollgate/client"
)

var apiTokenColumns = []column[api.APIToken]{
	{"id", func(t api.APIToken) string { return t.Id }},
	{"name", func(t api.APIToken) string { return t.Name }},
	{"kind", func(t api.APIToken) string { return string(t.Kind) }},
	{"role", func(t api.APIToken) string { return string(t.Role) }},
	{"owner", func(t api.APIToken) string { return ownerText(t.Owner) }},
	{"expires_at", func(t api.APIToken) string { return when(t.ExpiresAt) }},
	{"last_used_at", func(t api.APIToken) string { return when(t.LastUsedAt) }},
}

var apiTokenFields = []column[api.APIToken]{
	{"id", func(t api.APIToken) string { return t.Id }},
	{"name", func(t api.APIToken) string { return t.Name }},
	{"description", func(t api.APIToken) string { return orDash(t.Description) }},
	{"kind", func(t api.APIToken) string { return string(t.Kind) }},
	{"domains", func(t api.APIToken) string { return orDash(strings.Join(t.Domains, " ")) }},
	{"role", func(t api.APIToken) string { return string(t.Role) }},
	{"owner", func(t api.APIToken) string { return ownerText(t.Owner) }},
	{"expires_at", func(t api.APIToken) string { return when(t.ExpiresAt) }},
	{"created_at", func(t api.APIToken) string { return at(t.CreatedAt) }},
	{"created_by", func(t api.APIToken) string { return t.CreatedBy }},
	{"last_used_at", func(t api.APIToken) string { return when(t.LastUsedAt) }},
	{"last_used_origin", func(t api.APIToken) string { return ptrOrDash(t.LastUsedOrigin) }},
}

func ownerText(o api.TokenOwner) string { return fmt.Sprintf("%s %s (%s)", o.Type, o.Name, o.Id) }

// printCreatedToken prints a token with its value, which the server shows
// only in this answer.
func printCreatedToken(c *adminCall, t *api.APITokenWithSecret) error {
	if c.out.json {
		return c.out.encode(t)
	}
	cols := append(apiTokenFields[:len(apiTokenFields):len(apiTokenFields)], column[api.APIToken]{"token", func(api.APIToken) string { return t.Token }})
	return printOne(c.out, tokenOf(t), cols)
}

// tokenFlags are the flags of a new token, created or imported.
type tokenFlags struct {
	name, desc, kind, role, expires *string
	domains                         listFlag
}

func defineTokenFlags(fs *flag.FlagSet) *tokenFlags {
	f := &tokenFlags{
		name:    fs.String("name", "", "1–100 characters (required)"),
		desc:    fs.String("description", "", "what it is for, at most 140 characters"),
		kind:    fs.String("kind", "private", "private (accepted from anywhere) or public (only from its --domain origins)"),
		role:    fs.String("role", "", "admin, member or viewer, at most the owner's (default: viewer for public tokens, the owner's role for private ones)"),
		expires: fs.String("expires-at", "", "when it stops working: an RFC 3339 time, or a duration from now such as 720h (default: never)"),
	}
	fs.Var(&f.domains, "domain", "a public token's web origin, such as https://app.example.com (repeatable)")
	return f
}

// tokenOf is a created token without its value.
func tokenOf(t *api.APITokenWithSecret) api.APIToken {
	return api.APIToken{CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, Description: t.Description, Domains: t.Domains, ExpiresAt: t.ExpiresAt, Id: t.Id,
		Kind: t.Kind, LastUsedAt: t.LastUsedAt, LastUsedOrigin: t.LastUsedOrigin, Name: t.Name, Owner: t.Owner, Role: t.Role}
}

func tokensGroup() group {
	one := func(c *adminCall, t *api.APIToken, err error) error {
		if err != nil {
			return err
		}
		return printOne(c.out, *t, apiTokenFields)
	}
	return group{
		name:    "tokens",
		summary: "API tokens: long-lived tokens owned by service accounts, private or public (accepted only from listed web origins).",
		verbs: []verb{
			{name: "list", summary: "list the organization's API tokens", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				limit := fs.Int("limit", 0, "list at most this many (0: all)")
				owner := fs.String("owner", "", "only the tokens of this service account or user ID")
				kind := fs.String("kind", "", "only public or private tokens")
				return func(ctx context.Context, c *adminCall, _ []string) error {
					var p api.ListAPITokensParams
					if *owner != "" {
						p.OwnerId = owner
					}
					if *kind != "" {
						k := api.APITokenKind(*kind)
						p.Kind = &k
					}
					items, err := collect(c.api.APITokens(ctx, c.org, p), *limit)
					if err != nil {
						return err
					}
					return printList(c.out, items, apiTokenColumns)
				}
			}},
			{name: "create", summary: "create an API token for a service account (super_admin); the token is shown once", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				owner := fs.String("service-account", "", "the owning service account's ID (required)")
				f := defineTokenFlags(fs)
				return func(ctx context.Context, c *adminCall, _ []string) error {
					if *f.name == "" || *owner == "" {
						return &usageError{msg: "tokens create needs --name and --service-account"}
					}
					exp, err := parseTime("expires-at", *f.expires)
					if err != nil {
						return err
					}
					in := api.NewAPIToken{Name: *f.name, Description: *f.desc, ServiceAccountID: *owner, Kind: api.APITokenKind(*f.kind), Domains: f.domains, Role: api.CredentialRole(*f.role)}
					if exp != nil {
						in.ExpiresAt = *exp
					}
					t, err := c.api.CreateAPIToken(ctx, c.org, in)
					if err != nil {
						return err
					}
					if err := printCreatedToken(c, t); err != nil {
						return err
					}
					shownOnce(c.stderr, "token")
					return nil
				}
			}},
			{name: "import", summary: "import a member's existing token from an older system (super_admin); the token is read from stdin", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				owner := fs.String("owner", "", "the member's user ID who owns it (required)")
				fromStdin := fs.Bool("token-stdin", false, "read the token's value from stdin (required: a value on the command line would show in the process list and shell history)")
				f := defineTokenFlags(fs)
				return func(ctx context.Context, c *adminCall, _ []string) error {
					if *f.name == "" || *owner == "" || !*fromStdin {
						return &usageError{msg: "tokens import needs --name, --owner and --token-stdin"}
					}
					exp, err := parseTime("expires-at", *f.expires)
					if err != nil {
						return err
					}
					raw, err := readInput(c.stdin, "-")
					if err != nil {
						return err
					}
					value := string(bytes.TrimRight(raw, "\r\n"))
					body := api.ImportAPITokenJSONRequestBody{Name: *f.name, OwnerUserId: *owner, Token: value, Kind: api.APITokenKind(*f.kind), ExpiresAt: exp}
					if *f.desc != "" {
						body.Description = f.desc
					}
					if f.domains != nil {
						d := []string(f.domains)
						body.Domains = &d
					}
					if *f.role != "" {
						body.Role = f.role
					}
					t, err := api.Decode[api.APITokenWithSecret](c.api.ImportAPIToken(ctx, c.org, body))
					if err != nil {
						return err
					}
					return printOne(c.out, tokenOf(t), apiTokenFields) // without the value the caller has

				}
			}},
			{name: "get", args: []string{"ID"}, summary: "show an API token", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					t, err := api.Decode[api.APIToken](c.api.GetAPIToken(ctx, c.org, args[0]))
					return one(c, t, err)
				}
			}},
			{name: "revoke", args: []string{"ID"}, summary: "revoke an API token: it stops working at once, everywhere (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					if err := api.NoContent(c.api.RevokeAPIToken(ctx, c.org, args[0])); err != nil {
						return err
					}
					fmt.Fprintf(c.stderr, "tollgate: revoked %s\n", args[0])
					return nil
				}
			}},
			{name: "reassign", args: []string{"ID"}, summary: "move an API token to a service account, keeping its value (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				to := fs.String("service-account", "", "the new owner's ID (required)")
				return func(ctx context.Context, c *adminCall, args []string) error {
					if *to == "" {
						return &usageError{msg: "tokens reassign needs --service-account"}
					}
					t, err := c.api.ReassignAPIToken(ctx, c.org, args[0], *to)
					return one(c, t, err)
				}
			}},
		},
	}
}
