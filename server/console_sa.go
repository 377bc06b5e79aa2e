package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// saRow is a service account as the console shows it.
type saRow struct {
	ID, Name, Email, Description, Status, Lifetime, LastUsed, Created, CreatedBy, Endpoint string
	Role                                                                                   tollgate.Role
	RequireDPoP                                                                            bool
}

// saForm is the Create Service Account form as typed.
type saForm struct {
	Name, Description, TTL, Unit string
	Role                         tollgate.Role
	DescriptionLength            int
}

type unit struct {
	Value, Label string
	Seconds      int
}

// units are the lifetime units offered; the form's default is 1 hour.
var units = []unit{{"minutes", "minutes", 60}, {"hours", "hours", 3600}, {"days", "days", 86400}}

type secretView struct{ ClientID, Secret, Endpoint string }

type eventRow struct{ Time, Action, Actor string }

func (s *Server) toRow(sa *tollgate.ServiceAccount) saRow {
	r := saRow{ID: sa.ID, Name: sa.Name, Email: sa.Email, Description: sa.Description, Status: string(sa.Status), Role: sa.Role,
		Lifetime: tollgate.HumanSeconds(sa.TokenTTLSeconds), LastUsed: "never", Created: sa.CreatedAt.Format("2 Jan 2006 15:04"),
		CreatedBy: sa.CreatedBy, Endpoint: s.app.TokenEndpoint(), RequireDPoP: sa.RequireDPoP}
	if sa.LastUsedAt != nil {
		r.LastUsed = sa.LastUsedAt.Format("2 Jan 2006 15:04")
	}
	return r
}

// orgView loads the org and the caller's role in it into v.
func (s *Server) orgView(r *http.Request, ac app.Actor, v *view, tab string) error {
	org, err := s.app.GetOrg(r.Context(), ac, r.PathValue("org"))
	if err != nil {
		return err
	}
	v.Org, v.Section, v.Tab, v.Title = org, "members", tab, "Members and Permissions"
	switch tab {
	case "tokens", "audit", "settings":
		v.Section, v.Title = tab, map[string]string{"tokens": "Tokens", "audit": "Audit log", "settings": "Settings"}[tab]
	}
	for _, m := range v.Memberships {
		if m.OrgID == org.ID {
			v.Role = m.Role
		}
	}
	v.CanManage = v.Role == tollgate.RoleSuperAdmin
	return nil
}

// consolePage wraps a page handler: it loads the signed-in user and the
// org, runs fn, and renders what fn chose or the error it returned.
func (s *Server) consolePage(tab string, fn func(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ac, v, err := s.signedInView(r)
		if err == nil && r.Method == http.MethodPost {
			err = s.parseForm(w, r)
		}
		if err == nil {
			err = s.orgView(r, ac, v, tab)
		}
		if err != nil {
			s.consoleError(w, r, v, err)
			return
		}
		name, status, err := fn(w, r, ac, v)
		if err != nil {
			s.consoleError(w, r, v, err)
			return
		}
		if name != "" {
			s.render(w, r, status, name, v)
		}
	}
}

// handleServiceAccountsPage: GET /orgs/{org}/service-accounts?q=&cursor=,
// a page at a time.
func (s *Server) handleServiceAccountsPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	next, err := s.accountPage(r, ac, v)
	if err != nil {
		return "", 0, err
	}
	v.List = newListNav(r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/service-accounts", "Search service accounts", searchHelpEmail, next)
	v.Notice = map[string]string{"deleted": "The service account was deleted."}[r.URL.Query().Get("notice")]
	return "serviceaccounts", http.StatusOK, nil
}

// accountPage loads into v.Accounts the page of the org's service
// accounts that r's query asks for (q and cursor), and returns the next
// page's cursor.
func (s *Server) accountPage(r *http.Request, ac app.Actor, v *view) (string, error) {
	q, p := listRequest(r)
	list, next, err := s.app.ListServiceAccounts(r.Context(), ac, v.Org.Slug, tollgate.ServiceAccountFilter{Query: q}, p)
	if err != nil {
		return "", err
	}
	v.Accounts = v.Accounts[:0]
	for i := range list {
		v.Accounts = append(v.Accounts, s.toRow(&list[i]))
	}
	return next, nil
}

func (s *Server) newSAView(v *view) {
	v.Title, v.SARoles, v.Units = "Create Service Account", []tollgate.Role{tollgate.RoleMember, tollgate.RoleViewer, tollgate.RoleAdmin}, units
}

// handleNewServiceAccountPage: GET /orgs/{org}/service-accounts/new.
func (s *Server) handleNewServiceAccountPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin creates service accounts")
	}
	s.newSAView(v)
	v.Form = saForm{TTL: "1", Unit: "hours", Role: tollgate.RoleMember}
	return "sa_new", http.StatusOK, nil
}

// handleCreateServiceAccountForm: POST /orgs/{org}/service-accounts. The
// secret is rendered in the answer, never redirected through a URL.
func (s *Server) handleCreateServiceAccountForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	f := r.PostForm
	v.Form = saForm{Name: f.Get("name"), Description: f.Get("description"), TTL: f.Get("ttl"), Unit: f.Get("ttl_unit"),
		Role: tollgate.Role(f.Get("role")), DescriptionLength: utf8.RuneCountInString(f.Get("description"))}
	s.newSAView(v)
	seconds := -1
	for _, u := range units {
		if n, err := strconv.Atoi(strings.TrimSpace(v.Form.TTL)); err == nil && u.Value == v.Form.Unit && n > 0 && n <= tollgate.MaxTokenTTLSeconds {
			seconds = n * u.Seconds
		}
	}
	sa, secret, err := s.app.CreateServiceAccount(r.Context(), ac, v.Org.Slug, app.ServiceAccountInput{Name: v.Form.Name,
		Description: v.Form.Description, Role: v.Form.Role, TokenTTLSeconds: seconds})
	if err != nil {
		code := tollgate.ErrorCode(err)
		if f := tollgate.ErrorField(err); f != "" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
			return "sa_new", statusOf[code], nil
		}
		if code == tollgate.EConflict {
			v.Error = tollgate.ErrorMessage(err)
			return "sa_new", statusOf[code], nil
		}
		return "", 0, err
	}
	v.Title = "Service account " + sa.Name + " created"
	return s.showOnce(w, r, v, shownOnce{Page: "sa_created", Title: v.Title,
		Secret: &secretView{ClientID: sa.ID, Secret: secret, Endpoint: s.app.TokenEndpoint()}})
}

// accountView loads one account with its recent audit events.
func (s *Server) accountView(r *http.Request, ac app.Actor, v *view) error {
	sa, err := s.app.GetServiceAccount(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
	if err != nil {
		return err
	}
	row := s.toRow(sa)
	if row.CreatedBy, err = s.app.CreatorName(r.Context(), ac, v.Org.Slug, sa.CreatedBy); err != nil {
		return err
	}
	v.Account, v.Title = &row, sa.Name
	evs, _, err := s.app.ListAuditEvents(r.Context(), ac, v.Org.Slug, tollgate.AuditFilter{TargetID: sa.ID}, tollgate.Page{Limit: 10})
	if err != nil {
		return err
	}
	for _, e := range evs {
		v.Events = append(v.Events, eventRow{Time: e.Time.Format("2 Jan 2006 15:04:05"), Action: e.Action, Actor: e.Actor.Name})
	}
	toks, _, err := s.app.ListAPITokens(r.Context(), ac, v.Org.Slug, tollgate.APITokenFilter{OwnerID: sa.ID}, tollgate.Page{Limit: 20})
	if err != nil {
		return err
	}
	v.Tokens = tokenRows(toks)
	return s.secretlessView(r, ac, v)
}

// accountNotices are the account page's notices, each shown in the
// section of the form that led to it ("" for the top of the page).
var accountNotices = map[string]struct{ Text, At string }{
	"disabled":          {"The account was disabled.", ""},
	"enabled":           {"The account was enabled.", ""},
	"key_added":         {"The key was added: assertions signed with it are accepted now.", "keys"},
	"key_deleted":       {"The key was deleted: assertions signed with it are refused now.", "keys"},
	"federated_added":   {"The federated credential was added.", "federated"},
	"federated_deleted": {"The federated credential was deleted: its tokens are refused now.", "federated"},
	"dpop_true":         {"DPoP is required now: the account's Bearer tokens were revoked, and new tokens are bound to the client's key.", "dpop"},
	"dpop_false":        {"DPoP is no longer required: new tokens are Bearer tokens.", "dpop"},
	"dpop_unchanged":    {"Saved: nothing changed.", "dpop"},
}

// handleServiceAccountPage: GET /orgs/{org}/service-accounts/{id}.
func (s *Server) handleServiceAccountPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if err := s.accountView(r, ac, v); err != nil {
		return "", 0, err
	}
	n := accountNotices[r.URL.Query().Get("notice")]
	v.Notice, v.At = n.Text, n.At
	return "sa_show", http.StatusOK, nil
}

// accountAction runs a form of the account page; on success it redirects
// back with a notice, or renders what must be shown once.
func (s *Server) accountAction(do func(r *http.Request, ac app.Actor, v *view) (notice string, err error)) http.HandlerFunc {
	return s.accountActionAt("", do)
}

// accountActionAt runs a form of one section of the account page (at, its
// anchor): success goes back to that section, and a rule broken shows in
// it, next to its field when it names one.
func (s *Server) accountActionAt(at string, do func(r *http.Request, ac app.Actor, v *view) (notice string, err error)) http.HandlerFunc {
	return s.consolePage("service-accounts", func(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
		notice, err := do(r, ac, v)
		if err == nil && v.Secret != nil {
			return s.showOnce(w, r, v, shownOnce{Page: "sa_created", Title: v.Title, Secret: v.Secret})
		}
		if err == nil {
			target := "/orgs/" + url.PathEscape(v.Org.Slug) + "/service-accounts/" + url.PathEscape(r.PathValue("id")) + "?notice=" + notice
			if notice == "deleted" {
				target = "/orgs/" + url.PathEscape(v.Org.Slug) + "/service-accounts?notice=deleted"
			} else if at != "" {
				target += "#" + at
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return "", 0, nil
		}
		code := tollgate.ErrorCode(err)
		if code == tollgate.EInternal || code == tollgate.ENotFound || code == tollgate.EUnauthenticated {
			return "", 0, err
		}
		if verr := s.accountView(r, ac, v); verr != nil {
			return "", 0, verr
		}
		v.At = at
		if f := tollgate.ErrorField(err); at != "" && f != "" {
			v.Field, v.FieldError = at+"."+f, tollgate.ErrorMessage(err)
		} else {
			v.Error = tollgate.ErrorMessage(err)
		}
		return "sa_show", statusOf[code], nil
	})
}

func (s *Server) setStatusAction(enabled bool) func(r *http.Request, ac app.Actor, v *view) (string, error) {
	return func(r *http.Request, ac app.Actor, v *view) (string, error) {
		_, err := s.app.SetServiceAccountStatus(r.Context(), ac, v.Org.Slug, r.PathValue("id"), enabled)
		return map[bool]string{true: "enabled", false: "disabled"}[enabled], err
	}
}

func (s *Server) rotateAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	grace, err := strconv.Atoi(r.PostForm.Get("grace"))
	if err != nil {
		return "", tollgate.Invalidf("grace_period_seconds", "choose a grace period")
	}
	res, err := s.app.RotateSecret(r.Context(), ac, v.Org.Slug, r.PathValue("id"), secondsDuration(grace))
	if err != nil {
		return "", err
	}
	v.Title = "New secret for " + res.ServiceAccount.Name
	v.Secret = &secretView{ClientID: res.ServiceAccount.ID, Secret: res.ClientSecret, Endpoint: s.app.TokenEndpoint()}
	return "", nil
}

func (s *Server) deleteAccountAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	sa, err := s.app.GetServiceAccount(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if r.PostForm.Get("confirm") != sa.Name {
		return "", tollgate.Invalidf("confirm", "type the account's name, %s, to confirm the deletion", sa.Name)
	}
	return "deleted", s.app.DeleteServiceAccount(r.Context(), ac, v.Org.Slug, sa.ID)
}

func secondsDuration(n int) time.Duration { return time.Duration(n) * time.Second }
