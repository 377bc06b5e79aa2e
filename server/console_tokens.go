package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// tokenRow is an API token as the Tokens page shows it.
type tokenRow struct {
	ID, Name, Kind, OwnerID, OwnerName, OwnerType, LastUsed, LastOrigin, Expires string
	Role                                                                         tollgate.Role
	Domains                                                                      []string
}

// tokenForm is the Add Token form as typed.
type tokenForm struct {
	Name, Description, Owner, Kind, Domains, Role, Expires string
}

// tokenRows turns tokens into table rows.
func tokenRows(list []tollgate.APITokenView) []tokenRow {
	var rows []tokenRow
	for _, t := range list {
		row := tokenRow{ID: t.ID, Name: t.Name, Kind: string(t.Kind), OwnerID: t.OwnerID, OwnerName: t.OwnerName, OwnerType: strings.ReplaceAll(string(t.OwnerType), "_", " "),
			Role: t.Role, Domains: t.Domains, LastUsed: "never", Expires: "never", LastOrigin: t.LastUsedOrigin}
		if t.LastUsedAt != nil {
			row.LastUsed = t.LastUsedAt.Format("2 Jan 2006 15:04")
		}
		if t.ExpiresAt != nil {
			row.Expires = t.ExpiresAt.Format("2 Jan 2006")
		}
		rows = append(rows, row)
	}
	return rows
}

var tokenNotices = map[string]string{"reassigned": "The token was reassigned.", "revoked": "The token was revoked."}

// handleTokensPage: GET /orgs/{org}/tokens?owner_id=&q=&cursor=, a page at
// a time. Rows carry no owner picker: reassigning opens its own page.
func (s *Server) handleTokensPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	owner := r.URL.Query().Get("owner_id")
	q, p := listRequest(r)
	list, next, err := s.app.ListAPITokens(r.Context(), ac, v.Org.Slug, tollgate.APITokenFilter{OwnerID: owner, Query: q}, p)
	if err != nil {
		return "", 0, err
	}
	v.Tokens = tokenRows(list)
	if owner != "" && len(list) > 0 {
		v.OwnerFilter = list[0].OwnerName
	}
	v.List = newListNav(r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/tokens", "Search tokens", searchHelpName, next, "owner_id")
	v.Notice = tokenNotices[r.URL.Query().Get("notice")]
	if r.URL.Query().Get("notice") == "reassigned" && r.URL.Query().Get("token") != "" {
		v.Notice = s.reassignNotice(r, ac, v)
	}
	return "tokens", http.StatusOK, nil
}

// handleReassignPage: GET /orgs/{org}/tokens/{id}/reassign?q=&cursor=, the
// reassign picker (super_admin): the token, and a page of the service
// accounts it may move to, searchable, each with its own form. It loads
// only when asked for, so the Tokens page carries no list of accounts.
func (s *Server) handleReassignPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin reassigns tokens")
	}
	tok, err := s.app.GetAPIToken(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
	if err != nil {
		return "", 0, err
	}
	row := tokenRows([]tollgate.APITokenView{*tok})[0]
	v.Reassigning, v.Title = &row, "Reassign "+tok.Name
	next, err := s.accountPage(r, ac, v)
	if err != nil {
		return "", 0, err
	}
	v.List = newListNav(r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/tokens/"+url.PathEscape(tok.ID)+"/reassign",
		"Search service accounts", searchHelpEmail, next)
	return "token_reassign", http.StatusOK, nil
}

// ownerChoices is how many service accounts the Add Token form offers at
// once; a search narrows them.
const ownerChoices = 50

// ownerPicker loads the Add Token form's choice of owners: the first
// ownerChoices accounts whose name starts with the owner_q search, and
// the account already chosen (chosen, "" for none) even when it is not
// among them.
func (s *Server) ownerPicker(r *http.Request, ac app.Actor, v *view, chosen string) error {
	q := strings.TrimSpace(r.URL.Query().Get("owner_q"))
	list, next, err := s.app.ListServiceAccounts(r.Context(), ac, v.Org.Slug, tollgate.ServiceAccountFilter{Query: q}, tollgate.Page{Limit: ownerChoices})
	if err != nil {
		return err
	}
	v.MoreAccounts = next != ""
	v.Accounts = v.Accounts[:0]
	found := chosen == ""
	for i := range list {
		v.Accounts = append(v.Accounts, s.toRow(&list[i]))
		found = found || list[i].ID == chosen
	}
	if !found {
		sa, err := s.app.GetServiceAccount(r.Context(), ac, v.Org.Slug, chosen)
		if err == nil {
			v.Accounts = append([]saRow{s.toRow(sa)}, v.Accounts...)
		} else if code := tollgate.ErrorCode(err); code != tollgate.ENotFound && code != tollgate.EInvalid {
			return err
		}
	}
	v.List = listNav{Action: "/orgs/" + url.PathEscape(v.Org.Slug) + "/tokens/new", Label: "Find a service account", Q: q}
	return nil
}

// newTokenView loads the Add Token form, with chosen ("" for none) among
// the owners offered.
func (s *Server) newTokenView(r *http.Request, ac app.Actor, v *view, chosen string) error {
	if !v.CanManage {
		return tollgate.Errorf(tollgate.EForbidden, "only a super_admin adds tokens")
	}
	v.Title, v.SARoles = "Add Token", []tollgate.Role{tollgate.RoleViewer, tollgate.RoleMember, tollgate.RoleAdmin}
	return s.ownerPicker(r, ac, v, chosen)
}

// handleNewTokenPage: GET /orgs/{org}/tokens/new?owner_q=&service_account_id=.
func (s *Server) handleNewTokenPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	v.TokenForm.Owner = r.URL.Query().Get("service_account_id")
	if err := s.newTokenView(r, ac, v, v.TokenForm.Owner); err != nil {
		return "", 0, err
	}
	v.TokenForm.Kind = string(tollgate.KindPrivate)
	return "token_new", http.StatusOK, nil
}

// handleAddTokenForm: POST /orgs/{org}/tokens. The token is rendered in
// the answer, once.
func (s *Server) handleAddTokenForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if err := s.newTokenView(r, ac, v, r.PostForm.Get("service_account_id")); err != nil {
		return "", 0, err
	}
	f := r.PostForm
	v.TokenForm = tokenForm{Name: f.Get("name"), Description: f.Get("description"), Owner: f.Get("service_account_id"),
		Kind: f.Get("kind"), Domains: f.Get("domains"), Role: f.Get("role"), Expires: f.Get("expires")}
	in := app.APITokenInput{Name: v.TokenForm.Name, Description: v.TokenForm.Description, ServiceAccountID: v.TokenForm.Owner, Kind: tollgate.TokenKind(v.TokenForm.Kind)}
	for _, line := range strings.Split(v.TokenForm.Domains, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Domains = append(in.Domains, line)
		}
	}
	if v.TokenForm.Role != "" {
		role := tollgate.Role(v.TokenForm.Role)
		in.Role = &role
	}
	if v.TokenForm.Expires != "" {
		t, err := time.Parse("2006-01-02", v.TokenForm.Expires)
		if err != nil {
			v.Field, v.FieldError = "expires_at", "choose a date"
			return "token_new", http.StatusUnprocessableEntity, nil
		}
		end := t.Add(24*time.Hour - time.Second) // the end of that day, UTC
		in.ExpiresAt = &end
	}
	t, plain, err := s.app.CreateAPIToken(r.Context(), ac, v.Org.Slug, in)
	if err != nil {
		code := tollgate.ErrorCode(err)
		if code == tollgate.EInternal || code == tollgate.EUnauthenticated {
			return "", 0, err
		}
		if f := tollgate.ErrorField(err); f != "" && f != "service_account_id" && f != "kind" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
		} else {
			v.Error = tollgate.ErrorMessage(err)
		}
		return "token_new", statusOf[code], nil
	}
	return s.showOnce(w, r, v, shownOnce{Page: "token_created", Title: "Token " + t.Name + " added", NewToken: plain})
}

// tokenAction runs a row-menu form and redirects back with a notice, or
// shows the Tokens page with the error.
func (s *Server) tokenAction(do func(r *http.Request, ac app.Actor, v *view) (string, error)) http.HandlerFunc {
	return s.tokenActionOn(s.handleTokensPage, do)
}

// tokenActionOn runs a token form and redirects to the Tokens page with a
// notice, or shows the page show renders (the form's own) with the error.
func (s *Server) tokenActionOn(show func(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error), do func(r *http.Request, ac app.Actor, v *view) (string, error)) http.HandlerFunc {
	return s.consolePage("tokens", func(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
		notice, err := do(r, ac, v)
		if err == nil {
			http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/tokens?notice="+notice, http.StatusSeeOther)
			return "", 0, nil
		}
		code := tollgate.ErrorCode(err)
		if code == tollgate.EInternal || code == tollgate.EUnauthenticated || code == tollgate.ENotFound && tollgate.ErrorField(err) == "" {
			return "", 0, err
		}
		name, _, lerr := show(w, r, ac, v)
		if lerr != nil {
			return "", 0, lerr
		}
		v.Error = tollgate.ErrorMessage(err)
		return name, statusOf[code], nil
	})
}

// reassignAction moves the token, and the notice after it names the
// token, its new owner, and the role it had before when that was lowered.
func (s *Server) reassignAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	before, err := s.app.GetAPIToken(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	t, err := s.app.ReassignAPIToken(r.Context(), ac, v.Org.Slug, before.ID, r.PostForm.Get("service_account_id"))
	if err != nil {
		return "", err
	}
	return "reassigned&token=" + url.QueryEscape(t.ID) + "&was=" + url.QueryEscape(string(before.Role)), nil
}

// reassignNotice says what a reassignment did: "ci was reassigned to
// ci-runner. Its role was lowered from admin to member, its new owner's
// role." It reads the token as it is now; the role it had is the "was"
// parameter, which only words the notice.
func (s *Server) reassignNotice(r *http.Request, ac app.Actor, v *view) string {
	q := r.URL.Query()
	t, err := s.app.GetAPIToken(r.Context(), ac, v.Org.Slug, q.Get("token"))
	if err != nil {
		return tokenNotices["reassigned"]
	}
	msg := fmt.Sprintf("%s was reassigned to %s.", t.Name, t.OwnerName)
	if was := tollgate.Role(q.Get("was")); was != t.Role && was.AtLeast(t.Role) && tollgate.ValidateServiceAccountRole(was) == nil {
		msg += fmt.Sprintf(" Its role was lowered from %s to %s, its new owner's role.", was, t.Role)
	}
	return msg
}

func (s *Server) revokeAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	return "revoked", s.app.DeleteAPIToken(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
}
