package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

type auditFilterForm struct{ ActorID, Action, TargetID, Since, Until string }

// auditRow is a row of the audit log; Via is "CLI" for what a person did
// through `tollgate login`.
type auditRow struct{ Time, Actor, ActorType, Via, Action, Target, TargetType, IP string }

// auditActions are the actions offered in the filter.
var auditActions = []string{
	tollgate.ActionOrgCreated, tollgate.ActionOrgUpdated, tollgate.ActionMemberInvited, tollgate.ActionMemberJoined,
	tollgate.ActionMemberRoleChanged, tollgate.ActionMemberRemoved, tollgate.ActionMemberRemovalBlocked,
	tollgate.ActionSessionCreated, tollgate.ActionSessionFailed, tollgate.ActionSessionRevoked,
	tollgate.ActionDeviceApproved, tollgate.ActionDeviceDenied,
	tollgate.ActionServiceAccountCreated, tollgate.ActionServiceAccountUpdated, tollgate.ActionServiceAccountDisabled,
	tollgate.ActionServiceAccountEnabled, tollgate.ActionServiceAccountDeleted, tollgate.ActionServiceAccountSecretRotated,
	tollgate.ActionClientKeyAdded, tollgate.ActionClientKeyDeleted, tollgate.ActionFederatedCredentialAdded, tollgate.ActionFederatedCredentialDeleted,
	tollgate.ActionAccessTokenIssued, tollgate.ActionAccessTokenRevoked,
	tollgate.ActionTokenCreated, tollgate.ActionTokenUpdated, tollgate.ActionTokenRevoked, tollgate.ActionTokenImported, tollgate.ActionTokenReassigned,
}

const localTime = "2006-01-02T15:04"

// handleAuditPage: GET /orgs/{org}/audit with the API's filters, newest
// first, a page of 50 at a time; q finds whom to filter by (auditMatches).
func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	q := r.URL.Query()
	v.Filter = auditFilterForm{ActorID: q.Get("actor_id"), Action: q.Get("action"), TargetID: q.Get("target_id"), Since: q.Get("since"), Until: q.Get("until")}
	v.Actions = auditActions
	v.List = auditNav(r, v, "")
	f := tollgate.AuditFilter{ActorID: v.Filter.ActorID, Action: v.Filter.Action, TargetID: v.Filter.TargetID}
	for _, p := range []struct {
		in  string
		out *time.Time
	}{{v.Filter.Since, &f.Since}, {v.Filter.Until, &f.Until}} {
		if p.in == "" {
			continue
		}
		t, err := time.Parse(localTime, p.in)
		if err != nil {
			v.Error = "Times are written 2026-01-02T15:04."
			return "audit", http.StatusUnprocessableEntity, nil
		}
		*p.out = t
	}
	_, page := listRequest(r)
	evs, next, err := s.app.ListAuditEvents(r.Context(), ac, v.Org.Slug, f, page)
	if tollgate.ErrorCode(err) == tollgate.EInvalid {
		v.Error = tollgate.ErrorMessage(err)
		return "audit", http.StatusUnprocessableEntity, nil
	} else if err != nil {
		return "", 0, err
	}
	for _, e := range evs {
		row := auditRow{Time: e.Time.Format("2006-01-02 15:04:05"), Actor: e.Actor.Name, ActorType: string(e.Actor.Type),
			Action: e.Action, Target: e.Target.Name, TargetType: string(e.Target.Type), IP: e.IP}
		if e.Details["via"] == app.ViaCLI {
			row.Via = "CLI"
		}
		v.AuditRows = append(v.AuditRows, row)
	}
	apiQuery := url.Values{}
	for k, val := range map[string]string{"actor_id": f.ActorID, "action": f.Action, "target_id": f.TargetID} {
		if val != "" {
			apiQuery.Set(k, val)
		}
	}
	if !f.Since.IsZero() {
		apiQuery.Set("since", f.Since.Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		apiQuery.Set("until", f.Until.Format(time.RFC3339))
	}
	v.ExportURL = "/api/v1/orgs/" + url.PathEscape(v.Org.Slug) + "/audit-events/export?" + apiQuery.Encode()
	v.List = auditNav(r, v, next)
	if v.List.Q != "" {
		if err := s.auditMatches(r, ac, v, v.List.Q); err != nil {
			return "", 0, err
		}
	}
	return "audit", http.StatusOK, nil
}

// auditNav is the audit log's search and page links; the links keep its
// filters.
func auditNav(r *http.Request, v *view, next string) listNav {
	return newListNav(r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/audit", "Find a member, service account or token",
		"Matches the start of a name or email, in either case of A–Z; pick one to see the events by it or about it.",
		next, "actor_id", "action", "target_id", "since", "until")
}

// auditMatch is a principal an audit search found, with the links that
// filter the log to the events it did (ByURL, "" for tokens, which act
// as their owner) and the events done to it.
type auditMatch struct{ Kind, Name, ByURL, AboutURL string }

// auditMatchesEach is how many principals of each kind an audit search
// shows: it names whom to filter by, it is not a list to page through.
const auditMatchesEach = 5

// auditMatches finds the members, service accounts and tokens whose name
// (or email) starts with q, each through its list's index. The audit log
// itself is filtered by ID, which its indexes serve in time order: a name
// prefix over millions of events could not be both.
func (s *Server) auditMatches(r *http.Request, ac app.Actor, v *view, q string) error {
	ctx, slug, page := r.Context(), v.Org.Slug, tollgate.Page{Limit: auditMatchesEach}
	link := func(filter, id string) string {
		return "/orgs/" + url.PathEscape(slug) + "/audit?" + url.Values{filter: {id}}.Encode()
	}
	members, _, err := s.app.ListMembers(ctx, ac, slug, tollgate.MemberFilter{Query: q}, page)
	if err != nil {
		return err
	}
	for _, m := range members {
		v.Matches = append(v.Matches, auditMatch{"member", m.Email, link("actor_id", m.UserID), link("target_id", m.UserID)})
	}
	sas, _, err := s.app.ListServiceAccounts(ctx, ac, slug, tollgate.ServiceAccountFilter{Query: q}, page)
	if err != nil {
		return err
	}
	for _, sa := range sas {
		v.Matches = append(v.Matches, auditMatch{"service account", sa.Name, link("actor_id", sa.ID), link("target_id", sa.ID)})
	}
	toks, _, err := s.app.ListAPITokens(ctx, ac, slug, tollgate.APITokenFilter{Query: q}, page)
	if err != nil {
		return err
	}
	for _, t := range toks {
		v.Matches = append(v.Matches, auditMatch{"token", t.Name, "", link("target_id", t.ID)})
	}
	return nil
}

type settingsForm struct{ Name, Floor string }

// handleSettingsPage: GET /orgs/{org}/settings (super_admin).
func (s *Server) handleSettingsPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin changes the organization's settings")
	}
	v.SettingsForm = settingsForm{Name: v.Org.Name, Floor: strconv.Itoa(v.Org.Settings.TokenReuseFloorSeconds)}
	if r.URL.Query().Get("notice") == "saved" {
		v.Notice = "The settings were saved."
	}
	return "settings", http.StatusOK, nil
}

// handleSettingsForm: POST /orgs/{org}/settings.
func (s *Server) handleSettingsForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	v.SettingsForm = settingsForm{Name: r.PostForm.Get("name"), Floor: r.PostForm.Get("floor")}
	floor, err := strconv.Atoi(v.SettingsForm.Floor)
	if err != nil {
		v.Field, v.FieldError = "settings.token_reuse_floor_seconds", "enter a whole number of seconds"
		return "settings", http.StatusUnprocessableEntity, nil
	}
	name := v.SettingsForm.Name
	if _, err := s.app.UpdateOrg(r.Context(), ac, v.Org.Slug, tollgate.OrgUpdate{Name: &name, TokenReuseFloorSeconds: &floor}); err != nil {
		if f := tollgate.ErrorField(err); f != "" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
			return "settings", statusOf[tollgate.ErrorCode(err)], nil
		}
		return "", 0, err
	}
	http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/settings?notice=saved", http.StatusSeeOther)
	return "", 0, nil
}
