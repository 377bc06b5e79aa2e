package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

type auditFilterForm struct{ ActorID, Action, TargetID, Since, Until string }

// auditRow is a row of the audit log; Via is "CLI" for what a person did
// through `tollgate login`.
type auditRow struct {
	Time, Actor, ActorType, Via, Action, Target, TargetType, IP string
	Details                                                     []string // describeDetails
}

const localTime = "2006-01-02T15:04"

// handleAuditPage: GET /orgs/{org}/audit with the API's filters, newest
// first, a page of 50 at a time; q finds whom to filter by (auditMatches).
func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	q := r.URL.Query()
	v.Filter = auditFilterForm{ActorID: q.Get("actor_id"), Action: q.Get("action"), TargetID: q.Get("target_id"), Since: q.Get("since"), Until: q.Get("until")}
	v.Actions = tollgate.AuditActions
	v.List = auditNav(r, v, "")
	f := tollgate.AuditFilter{Action: v.Filter.Action}
	for _, p := range []struct {
		in    string
		out   *string
		label string
	}{{v.Filter.ActorID, &f.ActorID, "actor"}, {v.Filter.TargetID, &f.TargetID, "target"}} {
		id, err := s.principalID(r, ac, v.Org.Slug, p.in, p.label)
		if tollgate.ErrorCode(err) == tollgate.ENotFound {
			v.Error = tollgate.ErrorMessage(err)
			return "audit", http.StatusUnprocessableEntity, nil
		} else if err != nil {
			return "", 0, err
		}
		*p.out = id
	}
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
		row.Details = describeDetails(e.Details)
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

// idRE is the shape of every Tollgate ID (tollgate.NewID).
var idRE = regexp.MustCompile(`^[a-z]+_[0-9a-hjkmnp-tv-z]{26}$`)

// principalID reads an audit filter field: an ID as it is, else the
// member whose email or name it is, the service account of that name or
// email, or (for a target) the token of that name, ignoring ASCII case.
// Nobody by that name is ENotFound, saying so.
func (s *Server) principalID(r *http.Request, ac app.Actor, slug, in, role string) (string, error) {
	in = strings.TrimSpace(in)
	if in == "" || idRE.MatchString(in) {
		return in, nil
	}
	ctx, page := r.Context(), tollgate.Page{Limit: auditMatchesEach}
	members, _, err := s.app.ListMembers(ctx, ac, slug, tollgate.MemberFilter{Query: in}, page)
	if err != nil && tollgate.ErrorCode(err) != tollgate.EInvalid {
		return "", err
	}
	for _, m := range members {
		if strings.EqualFold(m.Email, in) || strings.EqualFold(m.Name, in) {
			return m.UserID, nil
		}
	}
	sas, _, err := s.app.ListServiceAccounts(ctx, ac, slug, tollgate.ServiceAccountFilter{Query: in}, page)
	if err != nil && tollgate.ErrorCode(err) != tollgate.EInvalid {
		return "", err
	}
	for _, sa := range sas {
		if strings.EqualFold(sa.Name, in) || strings.EqualFold(sa.Email, in) {
			return sa.ID, nil
		}
	}
	if role == "target" {
		toks, _, err := s.app.ListAPITokens(ctx, ac, slug, tollgate.APITokenFilter{Query: in}, page)
		if err != nil && tollgate.ErrorCode(err) != tollgate.EInvalid {
			return "", err
		}
		for _, t := range toks {
			if strings.EqualFold(t.Name, in) {
				return t.ID, nil
			}
		}
	}
	return "", tollgate.Errorf(tollgate.ENotFound, "No member, service account or token is named “%s” in %s, so there is no %s to filter by. Search above to find one.", tollgate.PlainCut(in, 100), slug, role)
}

// describeDetails writes an event's details for people, one line each, in
// key order: a change as "role: from admin to viewer", a principal by its
// name ("from: bob@example.com (user)"), a list joined with commas.
func describeDetails(d map[string]any) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != "via" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		v := d[k]
		if m, ok := v.(map[string]any); ok {
			from, hasFrom := m["from"]
			to, hasTo := m["to"]
			if hasFrom && hasTo && len(m) == 2 {
				out = append(out, fmt.Sprintf("%s: from %s to %s", k, detailValue(from), detailValue(to)))
				continue
			}
		}
		out = append(out, k+": "+detailValue(v))
	}
	return out
}

// detailValue writes one detail value: a principal by its name and type,
// a list joined, anything else as JSON would have it.
func detailValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "none"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = detailValue(e)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if name, ok := x["name"].(string); ok {
			if typ, ok := x["type"].(string); ok {
				return name + " (" + strings.ReplaceAll(typ, "_", " ") + ")"
			}
			return name
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

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

// settingsForm is the Settings page's form: the org's name, its reuse
// floor and its policy (P1), as typed.
type settingsForm struct {
	Name, Floor, MaxTTL, MaxLifetime string
	PublicTokens, UserImport         bool
}

// violationRow is one kind of credential that breaks the policy, with
// links to the first of them.
type violationRow struct {
	Policy, Message string
	Links           []violationLink
	More            int // how many are not linked
}

type violationLink struct{ Name, URL string }

// handleSettingsPage: GET /orgs/{org}/settings (super_admin).
func (s *Server) handleSettingsPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin changes the organization's settings")
	}
	st := v.Org.Settings
	v.SettingsForm = settingsForm{Name: v.Org.Name, Floor: strconv.Itoa(st.TokenReuseFloorSeconds), MaxTTL: strconv.Itoa(st.MaxTokenTTLSeconds),
		MaxLifetime: strconv.Itoa(st.APITokenMaxLifetimeSeconds), PublicTokens: !st.NoPublicTokens, UserImport: !st.NoUserTokenImport}
	if r.URL.Query().Get("notice") == "saved" {
		v.Notice = "The settings were saved."
	}
	return "settings", http.StatusOK, s.settingsViolations(r, ac, v)
}

// settingsViolations lists, on the Settings page, the credentials that
// break the policy, each linked to where it can be fixed.
func (s *Server) settingsViolations(r *http.Request, ac app.Actor, v *view) error {
	found, err := s.app.PolicyViolations(r.Context(), ac, v.Org.Slug)
	if err != nil {
		return err
	}
	org := "/orgs/" + url.PathEscape(v.Org.Slug)
	for _, f := range found {
		row := violationRow{Policy: f.Policy, Message: f.Message(), More: f.Count - len(f.Samples)}
		for _, p := range f.Samples {
			u := org + "/tokens?q=" + url.QueryEscape(p.Name)
			if p.Type == tollgate.PrincipalServiceAccount {
				u = org + "/service-accounts/" + url.PathEscape(p.ID)
			}
			row.Links = append(row.Links, violationLink{Name: p.Name, URL: u})
		}
		v.Violations = append(v.Violations, row)
	}
	return nil
}

// settingsNumbers are the form's whole-number fields, by the setting
// each one sets, with what the console says when one is not a number.
var settingsNumbers = []struct{ field, setting, message string }{
	{"floor", "settings.token_reuse_floor_seconds", "Enter the token reuse floor as a whole number of seconds."},
	{"max_ttl", "settings." + tollgate.PolicyMaxTokenTTL, "Enter the maximum access token lifetime as a whole number of seconds, or 0 for no limit."},
	{"max_lifetime", "settings." + tollgate.PolicyAPITokenMaxLifetime, "Enter the maximum API token lifetime as a whole number of seconds, or 0 for no limit."},
}

// handleSettingsForm: POST /orgs/{org}/settings.
func (s *Server) handleSettingsForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	f := r.PostForm
	v.SettingsForm = settingsForm{Name: f.Get("name"), Floor: f.Get("floor"), MaxTTL: f.Get("max_ttl"), MaxLifetime: f.Get("max_lifetime"),
		PublicTokens: f.Get("public_tokens") == "on", UserImport: f.Get("user_import") == "on"}
	// A number left empty keeps its setting; the checkboxes count only
	// when the form says it carries them (an unticked box is not sent).
	nums := make([]*int, len(settingsNumbers))
	for i, n := range settingsNumbers {
		text := strings.TrimSpace(f.Get(n.field))
		if text == "" {
			continue
		}
		x, err := strconv.Atoi(text)
		if err != nil {
			v.Field, v.FieldError = n.setting, n.message
			return "settings", http.StatusUnprocessableEntity, s.settingsViolations(r, ac, v)
		}
		nums[i] = &x
	}
	name := v.SettingsForm.Name
	upd := tollgate.OrgUpdate{Name: &name, TokenReuseFloorSeconds: nums[0], MaxTokenTTLSeconds: nums[1], APITokenMaxLifetimeSeconds: nums[2]}
	if f.Get("policy") == "on" {
		upd.PublicTokensAllowed, upd.UserTokenImportAllowed = &v.SettingsForm.PublicTokens, &v.SettingsForm.UserImport
	}
	if _, err := s.app.UpdateOrg(r.Context(), ac, v.Org.Slug, upd); err != nil {
		if f := tollgate.ErrorField(err); f != "" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
			return "settings", statusOf[tollgate.ErrorCode(err)], s.settingsViolations(r, ac, v)
		}
		return "", 0, err
	}
	http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/settings?notice=saved", http.StatusSeeOther)
	return "", 0, nil
}
