package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// webhookRow is a webhook as the console lists it.
type webhookRow struct {
	ID, URL, Description, Created string
	Events                        []string
	All                           bool
}

// webhookForm is the create and edit form, as typed.
type webhookForm struct {
	URL, Description string
	All              bool
	Events           map[string]bool
}

// webhookView is the Webhooks pages' part of the view.
type webhookView struct {
	Rows       []webhookRow
	Hook       *webhookRow
	Form       webhookForm
	Events     []string // every event, for the checkboxes
	Secret     string   // once, on the created page
	Deliveries []deliveryRow
	List       listNav
}

type deliveryRow struct {
	ID, Event, Status, Created, LastAttempt, Next, LastError string
	Attempts                                                 int
	Response                                                 string
	History                                                  []attemptRow
}

type attemptRow struct{ At, Response, Error, Duration string }

// deliveryTime shows times to the second: attempts may be seconds apart.
const deliveryTime = "2 Jan 2006 15:04:05 MST"

func toWebhookRow(w *tollgate.Webhook) webhookRow {
	return webhookRow{ID: w.ID, URL: w.URL, Description: w.Description, Created: w.CreatedAt.Format("2 Jan 2006 15:04"),
		Events: w.Events, All: w.Wants(tollgate.EventAll) && len(w.Events) == 1 && w.Events[0] == tollgate.EventAll}
}

func responseText(n int) string {
	if n == 0 {
		return "no answer"
	}
	return strconv.Itoa(n) + " " + http.StatusText(n)
}

// handleWebhooksPage: GET /orgs/{org}/webhooks, the list and the create form
// (super_admin).
func (s *Server) handleWebhooksPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin manages the organization's webhooks")
	}
	v.Title = "Webhooks"
	if v.Hooks.Form.Events == nil {
		v.Hooks.Form = webhookForm{All: true, Events: map[string]bool{}}
	}
	return s.webhooksList(r, ac, v, http.StatusOK)
}

func (s *Server) webhooksList(r *http.Request, ac app.Actor, v *view, status int) (string, int, error) {
	hooks, err := s.app.ListWebhooks(r.Context(), ac, v.Org.Slug)
	if err != nil {
		return "", 0, err
	}
	v.Title, v.Hooks.Events = "Webhooks", tollgate.WebhookEvents
	for i := range hooks {
		v.Hooks.Rows = append(v.Hooks.Rows, toWebhookRow(&hooks[i]))
	}
	switch r.URL.Query().Get("notice") {
	case "deleted":
		v.Notice = "The webhook was deleted, with its deliveries."
	}
	return "webhooks", status, nil
}

// readWebhookForm reads the create or edit form into v and returns the
// events it chose.
func readWebhookForm(r *http.Request, v *view) []string {
	f := r.PostForm
	form := webhookForm{URL: strings.TrimSpace(f.Get("url")), Description: f.Get("description"), All: f.Get("scope") != "some", Events: map[string]bool{}}
	var events []string
	for _, e := range f["event"] {
		form.Events[e] = true
		events = append(events, e)
	}
	if form.All {
		events = []string{tollgate.EventAll}
	}
	v.Hooks.Form = form
	return events
}

// handleCreateWebhookForm: POST /orgs/{org}/webhooks. The secret is
// rendered in the answer, once.
func (s *Server) handleCreateWebhookForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	events := readWebhookForm(r, v)
	hook, secret, err := s.app.CreateWebhook(r.Context(), ac, v.Org.Slug, app.WebhookInput{URL: v.Hooks.Form.URL, Events: events, Description: v.Hooks.Form.Description})
	if err != nil {
		if f := tollgate.ErrorField(err); f != "" {
			v.Field, v.FieldError = f, tollgate.ErrorMessage(err)
			return s.webhooksList(r, ac, v, statusOf[tollgate.ErrorCode(err)])
		}
		if tollgate.ErrorCode(err) == tollgate.EConflict {
			v.Error = tollgate.ErrorMessage(err)
			return s.webhooksList(r, ac, v, http.StatusConflict)
		}
		return "", 0, err
	}
	row := toWebhookRow(hook)
	return s.showOnce(w, r, v, shownOnce{Page: "webhook_created", Title: "Webhook added", Hook: &row, HookSecret: secret})
}

// handleWebhookPage: GET /orgs/{org}/webhooks/{id}?cursor=, the webhook,
// its edit form, and a page of its deliveries with their attempts.
func (s *Server) handleWebhookPage(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	return s.webhookPage(r, ac, v, http.StatusOK, true)
}

func (s *Server) webhookPage(r *http.Request, ac app.Actor, v *view, status int, fillForm bool) (string, int, error) {
	if !v.CanManage {
		return "", 0, tollgate.Errorf(tollgate.EForbidden, "only a super_admin manages the organization's webhooks")
	}
	id := r.PathValue("id")
	hook, err := s.app.GetWebhook(r.Context(), ac, v.Org.Slug, id)
	if err != nil {
		return "", 0, err
	}
	row := toWebhookRow(hook)
	v.Title, v.Hooks.Hook, v.Hooks.Events = "Webhook", &row, tollgate.WebhookEvents
	if fillForm {
		v.Hooks.Form = webhookForm{URL: hook.URL, Description: hook.Description, All: row.All, Events: map[string]bool{}}
		for _, e := range hook.Events {
			v.Hooks.Form.Events[e] = true
		}
	}
	cursor := r.URL.Query().Get("cursor")
	ds, next, err := s.app.ListWebhookDeliveries(r.Context(), ac, v.Org.Slug, id, tollgate.Page{Limit: 25, Cursor: cursor})
	if err != nil {
		return "", 0, err
	}
	for _, d := range ds {
		dr := deliveryRow{ID: d.MessageID, Event: d.Event, Status: string(d.Status), Created: d.CreatedAt.Format(deliveryTime),
			Attempts: d.Attempts, Response: responseText(d.ResponseStatus), LastError: d.LastError, LastAttempt: "never"}
		if d.Attempts == 0 {
			dr.Response = ""
		}
		if d.LastAttemptAt != nil {
			dr.LastAttempt = d.LastAttemptAt.Format(deliveryTime)
		}
		if d.Status == tollgate.DeliveryPending {
			dr.Next = d.NextAttemptAt.Format(deliveryTime)
		}
		for _, a := range d.History {
			dr.History = append(dr.History, attemptRow{At: a.At.Format(deliveryTime), Response: responseText(a.ResponseStatus), Error: a.Error,
				Duration: (time.Duration(a.DurationMillis) * time.Millisecond).String()})
		}
		v.Hooks.Deliveries = append(v.Hooks.Deliveries, dr)
	}
	base := "/orgs/" + url.PathEscape(v.Org.Slug) + "/webhooks/" + url.PathEscape(id)
	if next != "" {
		v.Hooks.List.NextURL = base + "?cursor=" + url.QueryEscape(next) + "#deliveries"
	}
	if cursor != "" {
		v.Hooks.List.FirstURL = base + "#deliveries"
	}
	if r.URL.Query().Get("notice") == "saved" {
		v.Notice = "The webhook was saved."
	}
	return "webhook_show", status, nil
}

// handleUpdateWebhookForm: POST /orgs/{org}/webhooks/{id}.
func (s *Server) handleUpdateWebhookForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	events := readWebhookForm(r, v)
	f := v.Hooks.Form
	_, err := s.app.UpdateWebhook(r.Context(), ac, v.Org.Slug, r.PathValue("id"), app.WebhookUpdate{URL: &f.URL, Events: &events, Description: &f.Description})
	if err != nil {
		if fe := tollgate.ErrorField(err); fe != "" {
			v.Field, v.FieldError = fe, tollgate.ErrorMessage(err)
			return s.webhookPage(r, ac, v, statusOf[tollgate.ErrorCode(err)], false)
		}
		return "", 0, err
	}
	http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/webhooks/"+url.PathEscape(r.PathValue("id"))+"?notice=saved", http.StatusSeeOther)
	return "", 0, nil
}

// handleDeleteWebhookForm: POST /orgs/{org}/webhooks/{id}/delete.
func (s *Server) handleDeleteWebhookForm(w http.ResponseWriter, r *http.Request, ac app.Actor, v *view) (string, int, error) {
	if err := s.app.DeleteWebhook(r.Context(), ac, v.Org.Slug, r.PathValue("id")); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/orgs/"+url.PathEscape(v.Org.Slug)+"/webhooks?notice=deleted", http.StatusSeeOther)
	return "", 0, nil
}
