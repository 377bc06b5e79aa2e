package server

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

//go:embed console/templates/*.html
var consoleTemplates embed.FS

//go:embed console/static
var consoleStatic embed.FS

// example is a copyable snippet: a labelled read-only text area.
type example struct {
	ID, Label, Text string
	Rows            int
}

// templateFuncs are the helpers the console's templates may call.
var templateFuncs = template.FuncMap{
	"example": func(id, label, text string, rows int) example { return example{id, label, text, rows} },
	"lines":   func(s string) int { return strings.Count(s, "\n") + 1 },
	"inc":     func(i int) int { return i + 1 },
}

// pages are the console's templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"signin", "accept", "members", "problem", "serviceaccounts", "sa_new", "sa_created", "sa_show", "tokens", "token_reassign", "token_new", "token_created", "audit", "settings", "device", "sessions", "webhooks", "webhook_created", "webhook_show"} {
		files := []string{"console/templates/layout.html", "console/templates/" + name + ".html"}
		if strings.HasPrefix(name, "webhook") {
			files = append(files, "console/templates/webhook_form.html") // the create and edit form
		}
		m[name] = template.Must(template.New("layout.html").Funcs(templateFuncs).ParseFS(consoleTemplates, files...))
	}
	return m
}()

// view is what every console page renders from; page-specific fields are
// empty on other pages.
type view struct {
	Title, Section     string
	User               *tollgate.User
	Memberships        []tollgate.Membership
	Org                *tollgate.Org
	Role               tollgate.Role
	Error, Notice      string
	Field, FieldError  string
	Next, Email        string // sign-in
	Token, Name        string // accept invitation
	Members            []memberRow
	Roles, InviteRoles []tollgate.Role
	CanInvite          bool
	CanManage          bool
	InviteEmail        string
	Invitation         *invitationView
	Tab                string
	Accounts           []saRow
	Form               saForm
	SARoles            []tollgate.Role
	Units              []unit
	Secret             *secretView
	Account            *saRow
	Events             []eventRow
	Tokens             []tokenRow
	OwnerFilter        string
	TokenForm          tokenForm
	NewToken           string
	ErrorLink          string
	Filter             auditFilterForm
	Actions            []string
	AuditRows          []auditRow
	ExportURL          string
	SettingsForm       settingsForm
	Violations         []violationRow // Settings: credentials that break the policy
	Hooks              webhookView    // the Webhooks pages
	// At names the account page's section a notice or an error belongs
	// to ("keys", "federated", "dpop"), "" for the top of the page.
	At        string
	Keys      []keyRow
	Feds      []fedRow
	KeyForm   keyForm
	FedForm   fedForm
	Templates []fedTemplate
	Issuer    string
	Examples  secretlessExamples
	Device    *deviceView  // /device
	Sessions  []sessionRow // /account/sessions
	// List is a list page's search box and page links.
	List listNav
	// Reassigning is the token the reassign picker moves.
	Reassigning *tokenRow
	// MoreAccounts: the owner picker shows only the first matches.
	MoreAccounts bool
	// Matches are the principals an audit search found.
	Matches []auditMatch
}

type memberRow struct {
	UserID, Name, Email string
	Role                tollgate.Role
	Joined              string
	OwnedTokenCount     int
}

type invitationView struct{ Email, URL, Expires string }

// consoleHeaders protect the console's pages: a strict Content-Security-
// Policy (no inline script or style), no framing, and no Referer (an
// invitation link carries its token).
func (s *Server) consoleHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// render writes a console page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages[name].ExecuteTemplate(w, "layout", v); err != nil {
		s.log.ErrorContext(r.Context(), "render", "page", name, "err", err)
	}
}

// consoleError renders err as a page, or sends the browser to sign in
// (coming back to where it was) when the session is missing or ended.
func (s *Server) consoleError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	code := tollgate.ErrorCode(err)
	if code == tollgate.EUnauthenticated {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
		return
	}
	if code == tollgate.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	v.Title, v.Error = titleOf[tollgate.Public(code)], tollgate.ErrorMessage(err)
	s.render(w, r, statusOf[code], "problem", v)
}

// signedInView returns the signed-in user's page basics.
func (s *Server) signedInView(r *http.Request) (app.Actor, *view, error) {
	ac, err := s.callerOf(r)
	if err == nil && !ac.Session() {
		err = tollgate.Errorf(tollgate.EUnauthenticated, "sign in")
	}
	if err != nil {
		return ac, &view{}, err
	}
	info, err := s.app.Me(r.Context(), ac)
	if err != nil {
		return ac, &view{}, err
	}
	return ac, &view{User: info.User, Memberships: info.Memberships}, nil
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

// parseForm reads a form body of at most 64 KiB.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return tollgate.Errorf(tollgate.ETooLarge, "the form is larger than %d bytes", tooBig.Limit)
		}
		return tollgate.Errorf(tollgate.EMalformed, "the form could not be read")
	}
	return plainValues(r.PostForm)
}

// handleConsoleHome: GET / → the first organization's members page, or
// sign-in.
func (s *Server) handleConsoleHome(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		s.consoleError(w, r, &view{}, tollgate.Errorf(tollgate.ENotFound, "there is no page at %s", r.URL.Path))
		return
	}
	_, v, err := s.signedInView(r)
	if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	if len(v.Memberships) == 0 {
		v.Title, v.Error = "No organization", "You are not a member of any organization yet: ask an admin for an invitation."
		s.render(w, r, http.StatusOK, "problem", v)
		return
	}
	http.Redirect(w, r, "/orgs/"+v.Memberships[0].OrgSlug+"/members", http.StatusSeeOther)
}

// handleSignInPage: GET /signin.
func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", &view{Title: "Sign in", Next: safeNext(r.URL.Query().Get("next"))})
}

// handleSignInForm: POST /signin.
func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Sign in"}
	if err := s.parseForm(w, r); err != nil {
		v.Error = tollgate.ErrorMessage(err)
		s.render(w, r, statusOf[tollgate.ErrorCode(err)], "signin", v)
		return
	}
	v.Next, v.Email = safeNext(r.PostForm.Get("next")), r.PostForm.Get("email")
	token, _, err := s.signIn(r, "console", v.Email, r.PostForm.Get("password"))
	if err != nil {
		code := tollgate.ErrorCode(err)
		if code == tollgate.EInternal {
			s.consoleError(w, r, v, err)
			return
		}
		v.Error = tollgate.ErrorMessage(err)
		s.fault(r, err).headers(w) // Retry-After when rate limited
		s.render(w, r, statusOf[code], "signin", v)
		return
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// handleSignOutForm: POST /signout.
func (s *Server) handleSignOutForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.app.SignOut(r.Context(), c.Value); err != nil {
			s.consoleError(w, r, &view{}, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// handleAcceptPage: GET /invitations/accept?token=… (the link an
// invitation gives out).
func (s *Server) handleAcceptPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "accept", &view{Title: "Join", Token: r.URL.Query().Get("token")})
}

// handleAcceptForm: POST /invitations/accept.
func (s *Server) handleAcceptForm(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Join"}
	if err := s.parseForm(w, r); err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	v.Token, v.Name = r.PostForm.Get("token"), r.PostForm.Get("name")
	token, _, err := s.acceptInvitation(r, "console", v.Token, v.Name, r.PostForm.Get("password"))
	if err != nil {
		code := tollgate.ErrorCode(err)
		if code == tollgate.EInternal || code == tollgate.ENotFound || code == tollgate.EConflict {
			s.consoleError(w, r, v, err)
			return
		}
		v.Error, v.Field = tollgate.ErrorMessage(err), tollgate.ErrorField(err)
		s.fault(r, err).headers(w)
		s.render(w, r, statusOf[code], "accept", v)
		return
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// notices are the messages a redirect after a change may show; the URL
// carries only their key.
var notices = map[string]string{"role": "The roles were saved.", "unchanged": "No role was changed.", "removed": "The member was removed."}

// membersView loads the Members tab of org for the signed-in user: the
// page of members r asks for (search and cursor in its query).
func (s *Server) membersView(r *http.Request, ac app.Actor, v *view, slug string) error {
	org, err := s.app.GetOrg(r.Context(), ac, slug)
	if err != nil {
		return err
	}
	v.Org, v.Title, v.Section, v.Tab = org, "Members and Permissions", "members", "members"
	for _, m := range v.Memberships {
		if m.OrgID == org.ID {
			v.Role = m.Role
		}
	}
	q, p := listRequest(r)
	list, next, err := s.app.ListMembers(r.Context(), ac, slug, tollgate.MemberFilter{Query: q}, p)
	if err != nil {
		return err
	}
	v.List = newListNav(r, "/orgs/"+url.PathEscape(slug)+"/members", "Search members", searchHelpEmail, next)
	for _, m := range list {
		v.Members = append(v.Members, memberRow{UserID: m.UserID, Name: m.Name, Email: m.Email, Role: m.Role,
			Joined: m.JoinedAt.Format("2 Jan 2006"), OwnedTokenCount: m.OwnedTokenCount})
	}
	v.CanManage = v.Role == tollgate.RoleSuperAdmin
	v.CanInvite = v.Role.AtLeast(tollgate.RoleAdmin)
	v.Roles = tollgate.Roles
	// The first option is the default: the least surprising role.
	v.InviteRoles = []tollgate.Role{tollgate.RoleMember, tollgate.RoleViewer}
	if v.CanManage {
		v.InviteRoles = append(v.InviteRoles, tollgate.RoleAdmin, tollgate.RoleSuperAdmin)
	}
	return nil
}

// handleMembersPage: GET /orgs/{org}/members.
func (s *Server) handleMembersPage(w http.ResponseWriter, r *http.Request) {
	ac, v, err := s.signedInView(r)
	if err == nil {
		err = s.membersView(r, ac, v, r.PathValue("org"))
	}
	if err != nil {
		s.consoleError(w, r, v, err)
		return
	}
	v.Notice = notices[r.URL.Query().Get("notice")]
	s.render(w, r, http.StatusOK, "members", v)
}

// memberAction runs a members form and answers with the Members tab: a
// rule broken shows next to the form (or above it); success either
// redirects with a notice or, when the page must show something once (an
// invitation link), renders it directly, never putting it in a URL.
func (s *Server) memberAction(do func(r *http.Request, ac app.Actor, v *view) (notice string, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ac, v, err := s.signedInView(r)
		if err == nil {
			err = s.parseForm(w, r)
		}
		if err != nil {
			s.consoleError(w, r, v, err)
			return
		}
		notice, actErr := do(r, ac, v)
		if actErr == nil && notice != "" {
			http.Redirect(w, r, "/orgs/"+url.PathEscape(r.PathValue("org"))+"/members?notice="+notice, http.StatusSeeOther)
			return
		}
		if err := s.membersView(r, ac, v, r.PathValue("org")); err != nil {
			s.consoleError(w, r, v, err)
			return
		}
		status := http.StatusOK
		if actErr != nil {
			code := tollgate.ErrorCode(actErr)
			if code == tollgate.EInternal || code == tollgate.EUnauthenticated {
				s.consoleError(w, r, v, actErr)
				return
			}
			status = statusOf[code]
			if f := tollgate.ErrorField(actErr); f != "" {
				v.Field, v.FieldError = f, tollgate.ErrorMessage(actErr)
			} else {
				v.Error = tollgate.ErrorMessage(actErr)
			}
		}
		s.render(w, r, status, "members", v)
	}
}

func (s *Server) inviteAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	v.InviteEmail = r.PostForm.Get("email")
	res, err := s.app.Invite(r.Context(), ac, r.PathValue("org"), v.InviteEmail, tollgate.Role(r.PostForm.Get("role")))
	if err != nil {
		return "", err
	}
	v.InviteEmail = ""
	v.Invitation = &invitationView{Email: res.Invitation.Email, URL: res.AcceptURL,
		Expires: res.Invitation.ExpiresAt.Format("2 Jan 2006 15:04 MST")}
	return "", nil
}

func (s *Server) roleAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	_, err := s.app.ChangeRole(r.Context(), ac, r.PathValue("org"), r.PathValue("user_id"), tollgate.Role(r.PostForm.Get("role")))
	return "role", err
}

// rolesAction saves the roles the members table changed: each
// role.<user ID> field whose value differs from its was.<user ID>, new
// super admins first (so that handing the role over before stepping down
// works in one save), then by user ID, stopping at the first refusal
// (which the page then shows).
func (s *Server) rolesAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	type change struct {
		id   string
		role tollgate.Role
	}
	var changes []change
	for key, vals := range r.PostForm {
		id, ok := strings.CutPrefix(key, "role.")
		if ok && len(vals) == 1 && vals[0] != r.PostForm.Get("was."+id) {
			changes = append(changes, change{id, tollgate.Role(vals[0])})
		}
	}
	if len(changes) == 0 {
		return "unchanged", nil
	}
	slices.SortFunc(changes, func(a, b change) int {
		if (a.role == tollgate.RoleSuperAdmin) != (b.role == tollgate.RoleSuperAdmin) {
			if a.role == tollgate.RoleSuperAdmin {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	for _, c := range changes {
		if _, err := s.app.ChangeRole(r.Context(), ac, r.PathValue("org"), c.id, c.role); err != nil {
			return "", err
		}
	}
	return "role", nil
}

func (s *Server) removeAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	err := s.app.RemoveMember(r.Context(), ac, r.PathValue("org"), r.PathValue("user_id"))
	if tollgate.ErrorCode(err) == tollgate.EConflict {
		// Blocked by owned tokens (A7): point to them.
		owned, _, lerr := s.app.ListAPITokens(r.Context(), ac, r.PathValue("org"),
			tollgate.APITokenFilter{OwnerID: r.PathValue("user_id")}, tollgate.Page{Limit: 1})
		if lerr == nil && len(owned) > 0 {
			v.ErrorLink = "/orgs/" + url.PathEscape(r.PathValue("org")) + "/tokens?owner_id=" + url.QueryEscape(r.PathValue("user_id"))
		}
	}
	return "removed", err
}

// consoleRoutes adds the console's pages and assets to mux. Every page
// gets the console's security headers and CSRF protection.
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	static, err := fs.Sub(consoleStatic, "console/static")
	if err != nil {
		panic(err) // the embedded directory is there at build time
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	page := func(h http.HandlerFunc) http.Handler { return s.consoleHeaders(s.caller("console", s.csrf(h))) }
	mux.Handle("GET /{$}", page(s.handleConsoleHome))
	mux.Handle("GET /signin", page(s.handleSignInPage))
	mux.Handle("POST /signin", page(s.handleSignInForm))
	mux.Handle("POST /signout", page(s.handleSignOutForm))
	mux.Handle("GET /invitations/accept", page(s.handleAcceptPage))
	mux.Handle("POST /invitations/accept", page(s.handleAcceptForm))
	mux.Handle("GET /orgs/{org}/members", page(s.handleMembersPage))
	mux.Handle("POST /orgs/{org}/members/invite", page(s.memberAction(s.inviteAction)))
	mux.Handle("POST /orgs/{org}/members/{user_id}/role", page(s.memberAction(s.roleAction)))
	mux.Handle("POST /orgs/{org}/members/roles", page(s.memberAction(s.rolesAction)))
	mux.Handle("POST /orgs/{org}/members/{user_id}/remove", page(s.memberAction(s.removeAction)))
	sa := "service-accounts"
	mux.Handle("GET /orgs/{org}/service-accounts", page(s.consolePage(sa, s.handleServiceAccountsPage)))
	mux.Handle("GET /orgs/{org}/service-accounts/new", page(s.consolePage(sa, s.handleNewServiceAccountPage)))
	mux.Handle("POST /orgs/{org}/service-accounts", page(s.consolePage(sa, s.handleCreateServiceAccountForm)))
	mux.Handle("GET /orgs/{org}/service-accounts/{id}", page(s.consolePage(sa, s.handleServiceAccountPage)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/disable", page(s.accountAction(s.setStatusAction(false))))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/enable", page(s.accountAction(s.setStatusAction(true))))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/rotate", page(s.accountAction(s.rotateAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/delete", page(s.accountAction(s.deleteAccountAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/keys", page(s.accountActionAt("keys", s.addKeyAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/keys/{key_id}/delete", page(s.accountActionAt("keys", s.deleteKeyAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/federated-credentials", page(s.accountActionAt("federated", s.addFederatedAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/federated-credentials/{fc_id}/delete", page(s.accountActionAt("federated", s.deleteFederatedAction)))
	mux.Handle("POST /orgs/{org}/service-accounts/{id}/dpop", page(s.accountActionAt("dpop", s.dpopAction)))
	tok := "tokens"
	mux.Handle("GET /orgs/{org}/tokens", page(s.consolePage(tok, s.handleTokensPage)))
	mux.Handle("GET /orgs/{org}/tokens/new", page(s.consolePage(tok, s.handleNewTokenPage)))
	mux.Handle("POST /orgs/{org}/tokens", page(s.consolePage(tok, s.handleAddTokenForm)))
	mux.Handle("GET /orgs/{org}/tokens/{id}/reassign", page(s.consolePage(tok, s.handleReassignPage)))
	mux.Handle("POST /orgs/{org}/tokens/{id}/reassign", page(s.tokenActionOn(s.handleReassignPage, s.reassignAction)))
	mux.Handle("POST /orgs/{org}/tokens/{id}/revoke", page(s.tokenAction(s.revokeAction)))
	mux.Handle("GET /device", page(s.handleDevicePage))
	mux.Handle("POST /device", page(s.handleDeviceForm))
	mux.Handle("GET /account/sessions", page(s.handleSessionsPage))
	mux.Handle("POST /account/sessions/{id}/revoke", page(s.handleRevokeSessionForm))
	mux.Handle("GET /docs", s.docsHeaders(http.HandlerFunc(s.handleDocs)))
	mux.Handle("GET /orgs/{org}/audit", page(s.consolePage("audit", s.handleAuditPage)))
	mux.Handle("GET /orgs/{org}/settings", page(s.consolePage("settings", s.handleSettingsPage)))
	mux.Handle("POST /orgs/{org}/settings", page(s.consolePage("settings", s.handleSettingsForm)))
	mux.Handle("GET /orgs/{org}/created", page(s.consolePage("", s.handleCreatedPage)))
	mux.Handle("GET /orgs/{org}/webhooks", page(s.consolePage("settings", s.handleWebhooksPage)))
	mux.Handle("POST /orgs/{org}/webhooks", page(s.consolePage("settings", s.handleCreateWebhookForm)))
	mux.Handle("GET /orgs/{org}/webhooks/{id}", page(s.consolePage("settings", s.handleWebhookPage)))
	mux.Handle("POST /orgs/{org}/webhooks/{id}", page(s.consolePage("settings", s.handleUpdateWebhookForm)))
	mux.Handle("POST /orgs/{org}/webhooks/{id}/delete", page(s.consolePage("settings", s.handleDeleteWebhookForm)))
}

// docsPage is the API reference: Swagger UI, vendored, over /openapi.json.
var docsPage = template.Must(template.ParseFS(consoleTemplates, "console/templates/docs.html"))

// docsHeaders are the console's headers, except that Swagger UI sets
// style attributes, so styles (never scripts) may be inline here.
func (s *Server) docsHeaders(h http.Handler) http.Handler {
	return s.consoleHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	}))
}

// handleDocs: GET /docs, the browsable reference with "try it".
func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := docsPage.Execute(w, nil); err != nil {
		s.log.ErrorContext(r.Context(), "render docs", "err", err)
	}
}
