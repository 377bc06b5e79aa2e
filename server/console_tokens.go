package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// tokenRow is an API token as the Tokens page shows it.
type tokenRow struct {
	ID, Name, Kind, OwnerName, OwnerType, LastUsed, LastOrigin, Expires string
	Role                                                                tollgate.Role
	Domains                                                             []string
}

// tokenForm is the Add Token form as typed.
type tokenForm struct {
	Name, Description, Owner, Kind, Domains, Role, Expires string
}

// tokenRows turns tokens into table rows.
func tokenRows(list []tollgate.APITokenView) []tokenRow {
	var rows []tokenRow
	for _, t := range list {
		row := tokenRow{ID: t.ID, Name: t.Name, Kind: string(t.Kind), OwnerName: t.OwnerName, OwnerType: strings.ReplaceAll(string(t.OwnerType), "_", " "),
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

// accounts loads the org's service accounts for owner pickers.
func (s *Server) accounts(r *http.Request, ac app.Actor, v *view) error {
	list, _, err := s.app.ListServiceAccounts(r.Context(), ac, v.Org.Slug, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: tollgate.MaxPageLimit})
	if err != nil {
		return err
	}
	v.Accounts = v.Accounts[:0]
	for i := range list {
		v.Accounts = append(v.Accounts, s.toRow(&list[i]))
	}
	return nil
}

var tokenNotices = map[string]string{"reassigned": "The token was reassigned.", "revoked": "The token was revoked."}

// handleTokensPage: GET /orgs/{org}/tokens?owner_id=.
func (s *Server) handleTokensPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	owner := r.URL.Query().Get("owner_id")
	list, _, err := s.app.ListAPITokens(r.Context(), ac, v.Org.Slug, tollgate.APITokenFilter{OwnerID: owner}, tollgate.Page{Limit: tollgate.MaxPageLimit})
	if err != nil {
		return "", 0, err
	}
	v.Tokens = tokenRows(list)
	if owner != "" && len(list) > 0 {
		v.OwnerFilter = list[0].OwnerName
	}
	if v.CanManage {
		if err := s.accounts(r, ac, v); err != nil {
			return "", 0, err
		}
	}
	v.Notice = tokenNotices[r.URL.Query().Get("notice")]
	return "tokens", http.StatusOK, nil
}

func (s *Server) newTokenView(r *http.Request, ac app.Actor, v *view) error {
	if !v.CanManage {
		return tollgate.Errorf(tollgate.EForbidden, "only a super_admin adds tokens")
	}
	v.Title, v.SARoles = "Add Token", []tollgate.Role{tollgate.RoleViewer, tollgate.RoleMember, tollgate.RoleAdmin}
	return s.accounts(r, ac, v)
}

// handleNewTokenPage: GET /orgs/{org}/tokens/new.
func (s *Server) handleNewTokenPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if err := s.newTokenView(r, ac, v); err != nil {
		return "", 0, err
	}
	v.TokenForm.Kind = string(tollgate.KindPrivate)
	return "token_new", http.StatusOK, nil
}

// handleAddTokenForm: POST /orgs/{org}/tokens. The token is rendered in
// the answer, once.
func (s *Server) handleAddTokenForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if err := s.newTokenView(r, ac, v); err != nil {
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
		if f := tollgate.ErrorField(err); f != "" && f != "service_account_id" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
		} else {
			v.Error = tollgate.ErrorMessage(err)
		}
		return "token_new", statusOf[code], nil
	}
	v.Title, v.NewToken = "Token "+t.Name+" added", plain
	return "token_created", http.StatusCreated, nil
}

// tokenAction runs a row-menu form and redirects back with a notice, or
// shows the Tokens page with the error.
func (s *Server) tokenAction(do func(r *http.Request, ac app.Actor, v *view) (string, error)) http.HandlerFunc {
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
		name, _, lerr := s.handleTokensPage(w, r, ac, v)
		if lerr != nil {
			return "", 0, lerr
		}
		v.Error = tollgate.ErrorMessage(err)
		return name, statusOf[code], nil
	})
}

func (s *Server) reassignAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	_, err := s.app.ReassignAPIToken(r.Context(), ac, v.Org.Slug, r.PathValue("id"), r.PostForm.Get("service_account_id"))
	return "reassigned", err
}

func (s *Server) revokeAction(r *http.Request, ac app.Actor, v *view) (string, error) {
	return "revoked", s.app.DeleteAPIToken(r.Context(), ac, v.Org.Slug, r.PathValue("id"))
}
