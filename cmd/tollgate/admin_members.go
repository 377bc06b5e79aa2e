package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"

	api "github.com/tollgate/tollgate/client"
)

var memberColumns = []column[api.Member]{
	{"user_id", func(m api.Member) string { return m.UserId }},
	{"email", func(m api.Member) string { return m.Email }},
	{"name", func(m api.Member) string { return m.Name }},
	{"role", func(m api.Member) string { return string(m.Role) }},
	{"owned_tokens", func(m api.Member) string { return strconv.Itoa(m.OwnedTokenCount) }},
	{"joined_at", func(m api.Member) string { return at(m.JoinedAt) }},
}

func membersGroup() group {
	return group{
		name:    "members",
		summary: "The people of an organization and their roles.",
		verbs: []verb{
			{name: "list", summary: "list the organization's members (admin+)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				limit := fs.Int("limit", 0, "list at most this many (0: all)")
				return func(ctx context.Context, c *adminCall, _ []string) error {
					items, err := collect(c.api.Members(ctx, c.org), *limit)
					if err != nil {
						return err
					}
					return printList(c.out, items, memberColumns)
				}
			}},
			{name: "invite", summary: "invite an email address with a role (super_admin; admin for member and viewer); the link is shown once", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				email := fs.String("email", "", "the person's email address (required)")
				role := fs.String("role", "", "super_admin, admin, member or viewer (required)")
				return func(ctx context.Context, c *adminCall, _ []string) error {
					if *email == "" || *role == "" {
						return &usageError{msg: "members invite needs --email and --role"}
					}
					inv, err := api.Decode[api.Invitation](c.api.InviteMember(ctx, c.org, api.InviteMemberJSONRequestBody{Email: *email, Role: api.Role(*role)}))
					if err != nil {
						return err
					}
					if err := printOne(c.out, *inv, []column[api.Invitation]{
						{"id", func(i api.Invitation) string { return i.Id }},
						{"email", func(i api.Invitation) string { return i.Email }},
						{"role", func(i api.Invitation) string { return string(i.Role) }},
						{"expires_at", func(i api.Invitation) string { return at(i.ExpiresAt) }},
						{"accept_url", func(i api.Invitation) string { return i.AcceptUrl }},
					}); err != nil {
						return err
					}
					shownOnce(c.stderr, "invitation link (send it to "+inv.Email+" only)")
					return nil
				}
			}},
			{name: "remove", args: []string{"USER_ID"}, summary: "remove a member (super_admin); refused while they own API tokens", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				return func(ctx context.Context, c *adminCall, args []string) error {
					if err := api.NoContent(c.api.RemoveMember(ctx, c.org, args[0])); err != nil {
						return err
					}
					fmt.Fprintf(c.stderr, "tollgate: removed %s\n", args[0])
					return nil
				}
			}},
		},
	}
}

var auditColumns = []column[api.AuditEvent]{
	{"time", func(e api.AuditEvent) string { return at(e.Time) }},
	{"actor", func(e api.AuditEvent) string { return principalText(e.Actor) }},
	{"action", func(e api.AuditEvent) string { return e.Action }},
	{"target", func(e api.AuditEvent) string { return principalText(e.Target) }},
	{"ip", func(e api.AuditEvent) string { return orDash(e.Ip) }},
	{"details", func(e api.AuditEvent) string {
		if len(e.Details) == 0 {
			return "-"
		}
		b, _ := json.Marshal(e.Details)
		return string(b)
	}},
}

func principalText(p api.Principal) string {
	if p.Name == "" && p.Id == "" {
		return p.Type
	}
	return orDash(p.Name)
}

// auditFilters are the audit log's selectors, shared by list and export.
type auditFilters struct{ actor, action, target, since, until stringFlag }

func defineAuditFilters(fs *flag.FlagSet) *auditFilters {
	f := &auditFilters{}
	fs.Var(&f.actor, "actor", "only events by this user or service account ID")
	fs.Var(&f.action, "action", "only this action, such as service_account.created")
	fs.Var(&f.target, "target", "only events about this ID")
	fs.Var(&f.since, "since", "only events at or after this RFC 3339 time")
	fs.Var(&f.until, "until", "only events before this RFC 3339 time")
	return f
}

func auditGroup() group {
	return group{
		name:    "audit",
		summary: "The organization's audit log: who changed what, and when.",
		verbs: []verb{
			{name: "list", summary: "list audit events, newest first (admin+)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				limit := fs.Int("limit", 100, "list at most this many (0: all)")
				f := defineAuditFilters(fs)
				return func(ctx context.Context, c *adminCall, _ []string) error {
					p := api.ListAuditEventsParams{ActorId: f.actor.ptr(), Action: f.action.ptr(), TargetId: f.target.ptr(), Since: f.since.ptr(), Until: f.until.ptr()}
					items, err := collect(c.api.AuditEvents(ctx, c.org, p), *limit)
					if err != nil {
						return err
					}
					return printList(c.out, items, auditColumns)
				}
			}},
			{name: "export", summary: "write the audit log as NDJSON (one event a line, newest first) to stdout (super_admin)", define: func(fs *flag.FlagSet) func(context.Context, *adminCall, []string) error {
				f := defineAuditFilters(fs)
				return func(ctx context.Context, c *adminCall, _ []string) error {
					p := api.ExportAuditEventsParams{ActorId: f.actor.ptr(), Action: f.action.ptr(), TargetId: f.target.ptr(), Since: f.since.ptr(), Until: f.until.ptr()}
					body, err := api.Stream(c.api.ExportAuditEvents(ctx, c.org, &p))
					if err != nil {
						return err
					}
					defer body.Close()
					_, err = io.Copy(c.out.w, body)
					return err
				}
			}},
		},
	}
}
