package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	api "github.com/tollgate/tollgate/client"
)

// The admin commands ("tollgate service-accounts …", "tollgate tokens …",
// "tollgate members …", "tollgate audit …") call a running server's admin
// API through the Go client. Each is a group of verbs; every verb takes the
// connection flags below, before or after its own:
//
//	--server URL   the server (env TOLLGATE_SERVER)
//	--org SLUG     the organization (env TOLLGATE_ORG; default: the one
//	               organization of a "tollgate login" credential)
//	--output table|json  (env TOLLGATE_OUTPUT; default table)
//
// The credential is TOLLGATE_TOKEN: an API token or access token acts in
// its organization with its role, and a "tollgate login" credential acts as
// the person who approved it; without TOLLGATE_TOKEN, the credential saved
// by "tollgate login --server URL" is used. A refusal from the server is
// one line on stderr naming the field, with exit status 1; a mistake in
// the command line is exit status 2.

// group is a command group, such as service-accounts.
type group struct {
	name    string
	aliases []string
	summary string
	verbs   []verb
	groups  []group // subgroups, such as "service-accounts keys"
}

// verb is one command of a group.
type verb struct {
	name    string
	args    []string // the positional arguments' names, e.g. {"ID"}
	summary string
	// define defines the verb's own flags and returns what runs it, with
	// the positional arguments (as many as args names).
	define func(fs *flag.FlagSet) func(ctx context.Context, c *adminCall, args []string) error
}

// adminGroups are the admin command groups, in the order usage lists
// them.
func adminGroups() []group {
	return []group{serviceAccountsGroup(), tokensGroup(), membersGroup(), auditGroup()}
}

// findGroup returns the group named (or aliased) name.
func findGroup(name string) (group, bool) {
	for _, g := range adminGroups() {
		if g.name == name || slices.Contains(g.aliases, name) {
			return g, true
		}
	}
	return group{}, false
}

// adminCall is what a running admin verb needs.
type adminCall struct {
	api    *api.Admin
	org    string
	out    *printer
	stdin  io.Reader
	stderr io.Writer
}

// connection holds the flags every admin verb takes.
type connection struct {
	server, org, output string
}

func (cn *connection) define(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&cn.server, "server", getenv("TOLLGATE_SERVER"), "the Tollgate server's URL (env TOLLGATE_SERVER)")
	fs.StringVar(&cn.org, "org", getenv("TOLLGATE_ORG"), "the organization's slug (env TOLLGATE_ORG; default: the only organization of a login credential)")
	fs.StringVar(&cn.output, "output", envOr(getenv, "TOLLGATE_OUTPUT", "table"), "table or json (env TOLLGATE_OUTPUT)")
}

// leadingFlags splits "tollgate --server URL --org acme tokens list" into
// the connection flags before the group and the rest, so that they may
// come first, as they do for kubectl or gh.
func leadingFlags(args []string) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return args[:i], args[i:]
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if i+1 < len(args) {
			i++ // the flag's value
		}
	}
	return args, nil
}

// isLeadingFlag reports whether arg starts a connection flag given before
// a group.
func isLeadingFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return strings.HasPrefix(arg, "-") && (name == "server" || name == "org" || name == "output")
}

// runAdmin runs "tollgate [connection flags] <group> <verb> [args and
// flags]".
func runAdmin(ctx context.Context, g group, leading, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprintln(w, groupUsage(g))
		if len(args) == 0 {
			return &usageError{msg: "missing " + g.name + " command"}
		}
		return nil
	}
	if j := slices.IndexFunc(g.groups, func(sub group) bool { return sub.name == args[0] }); j >= 0 {
		sub := g.groups[j]
		sub.name = g.name + " " + sub.name
		return runAdmin(ctx, sub, leading, args[1:], getenv, stdin, stdout, stderr)
	}
	i := slices.IndexFunc(g.verbs, func(v verb) bool { return v.name == args[0] })
	if i < 0 {
		fmt.Fprintln(stderr, groupUsage(g))
		return &usageError{msg: fmt.Sprintf("unknown %s command %q", g.name, args[0])}
	}
	v := g.verbs[i]
	fs := newFlags(g.name+" "+v.name, stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tollgate %s %s%s [flags]\n\n%s\n\nflags:\n", g.name, v.name, argNames(v.args), v.summary)
		fs.PrintDefaults()
	}
	var cn connection
	cn.define(fs, getenv)
	runVerb := v.define(fs)
	pos, err := parseInterleaved(fs, append(slices.Clone(leading), args[1:]...))
	if err != nil {
		return err
	}
	if len(pos) != len(v.args) {
		fs.Usage()
		return &usageError{msg: fmt.Sprintf("%s %s takes %d argument(s)%s, got %d", g.name, v.name, len(v.args), argNames(v.args), len(pos))}
	}
	c, err := cn.connect(ctx, getenv, stdout)
	if err != nil {
		return err
	}
	c.stdin, c.stderr = stdin, stderr
	return runVerb(ctx, c, pos)
}

func argNames(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return " " + strings.Join(args, " ")
}

// groupUsage lists a group's verbs.
func groupUsage(g group) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: tollgate %s <command> [flags]\n\n%s\n\ncommands:\n", g.name, g.summary)
	tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0)
	for _, v := range g.verbs {
		fmt.Fprintf(tw, "  %s%s\t%s\n", v.name, argNames(v.args), v.summary)
	}
	for _, sub := range g.groups {
		fmt.Fprintf(tw, "  %s <command>\t%s\n", sub.name, sub.summary)
	}
	tw.Flush()
	b.WriteString("\nEvery command takes --server URL (TOLLGATE_SERVER), --org SLUG (TOLLGATE_ORG) and\n--output table|json; the credential is TOLLGATE_TOKEN, or the one \"tollgate login\" saved.\nRun \"tollgate " + g.name + " <command> -h\" for a command's flags.")
	return b.String()
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones. "--" ends the
// flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// connect checks the connection flags, finds the credential and the
// organization, and returns the client for a verb.
func (cn *connection) connect(ctx context.Context, getenv func(string) string, stdout io.Writer) (*adminCall, error) {
	if cn.output != "table" && cn.output != "json" {
		return nil, &usageError{msg: fmt.Sprintf("--output must be table or json, not %q", cn.output)}
	}
	server, err := serverURL(cn.server)
	if err != nil {
		return nil, err
	}
	token := getenv("TOLLGATE_TOKEN")
	if token == "" {
		token, err = storedToken(getenv, server)
		if err != nil {
			return nil, err
		}
	}
	if token == "" {
		return nil, fmt.Errorf("no credential for %s: set TOLLGATE_TOKEN, or run \"tollgate login --server %s\"", server, server)
	}
	agent := func(_ context.Context, req *http.Request) error {
		req.Header.Set("User-Agent", "tollgate-cli/"+versionString())
		return nil
	}
	c, err := api.New(server, token, api.WithHTTPClient(&http.Client{Timeout: time.Minute}), api.WithRequestEditorFn(agent))
	if err != nil {
		return nil, &usageError{msg: "TOLLGATE_TOKEN: " + err.Error()}
	}
	org := cn.org
	if org == "" {
		if org, err = onlyOrg(ctx, c); err != nil {
			return nil, err
		}
	}
	return &adminCall{api: c, org: org, out: &printer{w: stdout, json: cn.output == "json"}}, nil
}

// onlyOrg is the organization of a person's credential who belongs to
// exactly one; anything else needs --org.
func onlyOrg(ctx context.Context, c *api.Admin) (string, error) {
	const need = "--org is required (env TOLLGATE_ORG)"
	me, err := api.Decode[api.Session](c.GetMe(ctx))
	if api.HasCode(err, api.ProblemCodeForbidden) {
		return "", &usageError{msg: need + ": a machine credential does not say its organization's slug"}
	} else if err != nil {
		return "", err
	}
	if len(me.Memberships) != 1 {
		slugs := make([]string, len(me.Memberships))
		for i, m := range me.Memberships {
			slugs[i] = m.OrgSlug
		}
		return "", &usageError{msg: fmt.Sprintf("%s: %s belongs to %d organizations (%s)", need, me.User.Email, len(me.Memberships), strings.Join(slugs, ", "))}
	}
	return me.Memberships[0].OrgSlug, nil
}

// printer writes what a verb answers: a table for people, or JSON for
// scripts (the API's own objects, and lists as arrays).
type printer struct {
	w    io.Writer
	json bool
}

// column is one column of a table, or one line of a single object.
type column[T any] struct {
	name string
	get  func(T) string
}

// printList prints items as a table, or as a JSON array.
func printList[T any](p *printer, items []T, cols []column[T]) error {
	if p.json {
		if items == nil {
			items = []T{}
		}
		return p.encode(items)
	}
	tw := tabwriter.NewWriter(p.w, 2, 8, 2, ' ', 0)
	for i, c := range cols {
		fmt.Fprint(tw, strings.ToUpper(c.name), tab(i, len(cols)))
	}
	for _, it := range items {
		for i, c := range cols {
			fmt.Fprint(tw, oneLine(c.get(it)), tab(i, len(cols)))
		}
	}
	return tw.Flush()
}

// printOne prints v as "name  value" lines, or as a JSON object.
func printOne[T any](p *printer, v T, cols []column[T]) error {
	if p.json {
		return p.encode(v)
	}
	tw := tabwriter.NewWriter(p.w, 2, 8, 2, ' ', 0)
	for _, c := range cols {
		fmt.Fprintf(tw, "%s\t%s\n", c.name, oneLine(c.get(v)))
	}
	return tw.Flush()
}

func (p *printer) encode(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func tab(i, n int) string {
	if i == n-1 {
		return "\n"
	}
	return "\t"
}

// oneLine keeps a value that came from the server on its line of the
// table: control characters (a name cannot hold them, but a description
// or user agent might) are shown as spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// shownOnce warns on stderr that the secret just printed is not shown
// again.
func shownOnce(stderr io.Writer, what string) {
	fmt.Fprintf(stderr, "tollgate: warning: the %s above is shown only this once; store it now in a secret manager\n", what)
}

// collect gathers what a pager yields, at most limit items (0: all).
func collect[T any](seq func(func(T, error) bool), limit int) ([]T, error) {
	var items []T
	var err error
	seq(func(it T, e error) bool {
		if e != nil {
			err = e
			return false
		}
		items = append(items, it)
		return limit == 0 || len(items) < limit
	})
	return items, err
}

// Formatting of the API's values in tables.

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func at(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ptrOrDash(s *string) string {
	if s == nil {
		return "-"
	}
	return orDash(*s)
}

// stringFlag is a flag that records whether it was given, for PATCH
// bodies that change only what the command line names.
type stringFlag struct {
	value string
	set   bool
}

func (f *stringFlag) String() string { return f.value }
func (f *stringFlag) Set(s string) error {
	f.value, f.set = s, true
	return nil
}

// ptr returns &f.value when the flag was given, else nil.
func (f *stringFlag) ptr() *string {
	if !f.set {
		return nil
	}
	return &f.value
}

// listFlag is a repeatable flag.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

// parseTime reads an RFC 3339 time or a duration from now ("720h"), for
// --expires-at; "" is no time.
func parseTime(flagName, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		t := time.Now().Add(d).Truncate(time.Second)
		return &t, nil
	}
	return nil, &usageError{msg: fmt.Sprintf("--%s must be an RFC 3339 time such as 2027-01-31T00:00:00Z, or a duration from now such as 720h; not %q", flagName, s)}
}
