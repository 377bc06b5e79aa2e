package server

import (
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

type webhookJSON struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Secret      string    `json:"secret,omitempty"` // in the creation response only
}

func toWebhook(w *tollgate.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, Description: w.Description, CreatedAt: w.CreatedAt, CreatedBy: w.CreatedBy}
}

type attemptJSON struct {
	At             time.Time `json:"at"`
	ResponseStatus *int      `json:"response_status"`
	Error          string    `json:"error,omitempty"`
	DurationMillis int       `json:"duration_ms"`
}

type deliveryJSON struct {
	ID             string        `json:"id"`
	Event          string        `json:"event"`
	Status         string        `json:"status"`
	Attempts       int           `json:"attempts"`
	LastAttemptAt  *time.Time    `json:"last_attempt_at"`
	ResponseStatus *int          `json:"response_status"`
	LastError      string        `json:"last_error,omitempty"`
	NextAttemptAt  *time.Time    `json:"next_attempt_at"`
	CreatedAt      time.Time     `json:"created_at"`
	History        []attemptJSON `json:"history"`
}

// status is a response status, null when no answer came.
func status(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func toDelivery(d *tollgate.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{ID: d.MessageID, Event: d.Event, Status: string(d.Status), Attempts: d.Attempts, LastAttemptAt: d.LastAttemptAt,
		ResponseStatus: status(d.ResponseStatus), LastError: d.LastError, CreatedAt: d.CreatedAt, History: []attemptJSON{}}
	if d.Status == tollgate.DeliveryPending {
		next := d.NextAttemptAt
		out.NextAttemptAt = &next
	}
	for _, a := range d.History {
		out.History = append(out.History, attemptJSON{At: a.At, ResponseStatus: status(a.ResponseStatus), Error: a.Error, DurationMillis: a.DurationMillis})
	}
	return out
}

// handleCreateWebhook: POST /api/v1/orgs/{org}/webhooks {url,events,description?}
// → 201 with the whsec_ secret, shown this once.
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		URL         string   `json:"url"`
		Events      []string `json:"events"`
		Description string   `json:"description"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	hook, secret, err := s.app.CreateWebhook(r.Context(), ac, r.PathValue("org"), app.WebhookInput{URL: req.URL, Events: req.Events, Description: req.Description})
	if err != nil {
		return err
	}
	out := toWebhook(hook)
	out.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleListWebhooks: GET /api/v1/orgs/{org}/webhooks → list.
func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	hooks, err := s.app.ListWebhooks(r.Context(), ac, r.PathValue("org"))
	if err != nil {
		return err
	}
	items := make([]webhookJSON, len(hooks))
	for i := range hooks {
		items[i] = toWebhook(&hooks[i])
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

// handleGetWebhook: GET /api/v1/orgs/{org}/webhooks/{id}.
func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	hook, err := s.app.GetWebhook(r.Context(), ac, r.PathValue("org"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhook(hook))
	return nil
}

// handleUpdateWebhook: PATCH /api/v1/orgs/{org}/webhooks/{id} {url?,events?,description?}.
func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		URL         *string   `json:"url"`
		Events      *[]string `json:"events"`
		Description *string   `json:"description"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	hook, err := s.app.UpdateWebhook(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), app.WebhookUpdate{URL: req.URL, Events: req.Events, Description: req.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhook(hook))
	return nil
}

// handleDeleteWebhook: DELETE /api/v1/orgs/{org}/webhooks/{id} → 204.
func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.DeleteWebhook(r.Context(), ac, r.PathValue("org"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListWebhookDeliveries: GET /api/v1/orgs/{org}/webhooks/{id}/deliveries?cursor=&limit=
// → a page of deliveries, newest first, with their attempts.
func (s *Server) handleListWebhookDeliveries(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	ds, next, err := s.app.ListWebhookDeliveries(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	items := make([]deliveryJSON, len(ds))
	for i := range ds {
		items[i] = toDelivery(&ds[i])
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}
