package app

import (
	"context"
	"encoding/json"
	neturl "net/url"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/webhook"
)

// WebhookInput creates a webhook.
type WebhookInput struct {
	URL         string
	Events      []string
	Description string
}

// WebhookUpdate changes a webhook; nil fields stay.
type WebhookUpdate struct {
	URL         *string
	Events      *[]string
	Description *string
}

// webhookPrincipal names a webhook in the audit log by its URL's origin:
// the path and query may hold the receiver's own token (a Slack or
// Discord hook URL does), and admins, who may not read the URL, read the
// log, and other webhooks receive it.
func webhookPrincipal(w *tollgate.Webhook) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalWebhook, ID: w.ID, Name: urlOrigin(w.URL)}
}

// urlOrigin is a valid webhook URL's scheme and host, without its path,
// query or anything else.
func urlOrigin(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// checkWebhook validates the fields every webhook has and returns the
// events without duplicates.
func (a *App) checkWebhook(url string, events []string, description string) ([]string, error) {
	if err := tollgate.ValidateWebhookURL(url, a.cfg.WebhookInsecureURLs); err != nil {
		return nil, err
	}
	if err := tollgate.ValidateDescription(description); err != nil {
		return nil, err
	}
	return tollgate.ValidateWebhookEvents(events)
}

// CreateWebhook subscribes a URL to the org's events; super_admin only.
// The secret (whsec_…) is returned this once and kept sealed.
func (a *App) CreateWebhook(ctx context.Context, ac Actor, slug string, in WebhookInput) (*tollgate.Webhook, string, error) {
	ctx, span := tracer.Start(ctx, "app.CreateWebhook")
	defer span.End()
	events, err := a.checkWebhook(in.URL, in.Events, in.Description)
	if err != nil {
		return nil, "", err
	}
	secret := webhook.NewSecret()
	var w *tollgate.Webhook
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		existing, err := q.ListWebhooks(ctx, org.ID)
		if err != nil {
			return err
		}
		if len(existing) >= tollgate.MaxWebhooksPerOrg {
			return tollgate.Errorf(tollgate.EConflict, "an organization has at most %d webhooks: delete one first", tollgate.MaxWebhooksPerOrg)
		}
		now := a.now()
		id := tollgate.NewID(tollgate.PrefixWebhook, now)
		w = &tollgate.Webhook{ID: id, OrgID: org.ID, URL: in.URL, Events: events, Description: in.Description,
			Sealed: a.cfg.Keyring.Seal([]byte(secret), id), CreatedAt: now, CreatedBy: ac.ID}
		if err := q.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionWebhookCreated, webhookPrincipal(w), map[string]any{"url": urlOrigin(w.URL), "events": w.Events})
	})
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// ListWebhooks returns the org's webhooks; super_admin only (their URLs
// may hold a receiver's own token).
func (a *App) ListWebhooks(ctx context.Context, ac Actor, slug string) ([]tollgate.Webhook, error) {
	ctx, span := tracer.Start(ctx, "app.ListWebhooks")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleSuperAdmin)
	if err != nil {
		return nil, err
	}
	return a.store.ListWebhooks(ctx, org.ID)
}

// GetWebhook returns one webhook; super_admin only.
func (a *App) GetWebhook(ctx context.Context, ac Actor, slug, id string) (*tollgate.Webhook, error) {
	ctx, span := tracer.Start(ctx, "app.GetWebhook")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleSuperAdmin)
	if err != nil {
		return nil, err
	}
	return a.webhookOf(ctx, a.store, org, id)
}

func (a *App) webhookOf(ctx context.Context, q tollgate.Queries, org *tollgate.Org, id string) (*tollgate.Webhook, error) {
	w, err := q.GetWebhook(ctx, org.ID, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, tollgate.Errorf(tollgate.ENotFound, "webhook %q not found in %s", id, org.Slug)
	}
	return w, err
}

// UpdateWebhook changes a webhook's URL, events or description;
// super_admin only. Deliveries already queued go to the new URL.
func (a *App) UpdateWebhook(ctx context.Context, ac Actor, slug, id string, upd WebhookUpdate) (*tollgate.Webhook, error) {
	ctx, span := tracer.Start(ctx, "app.UpdateWebhook")
	defer span.End()
	var w *tollgate.Webhook
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		if w, err = a.webhookOf(ctx, q, org, id); err != nil {
			return err
		}
		url, events, description := w.URL, w.Events, w.Description
		if upd.URL != nil {
			url = *upd.URL
		}
		if upd.Events != nil {
			events = *upd.Events
		}
		if upd.Description != nil {
			description = *upd.Description
		}
		if events, err = a.checkWebhook(url, events, description); err != nil {
			return err
		}
		changes := map[string]any{}
		if url != w.URL {
			changes["url"] = map[string]any{"from": urlOrigin(w.URL), "to": urlOrigin(url)}
		}
		if strings.Join(events, " ") != strings.Join(w.Events, " ") {
			changes["events"] = map[string]any{"from": w.Events, "to": events}
		}
		if description != w.Description {
			changes["description"] = map[string]any{"from": w.Description, "to": description}
		}
		if len(changes) == 0 {
			return nil
		}
		w.URL, w.Events, w.Description = url, events, description
		if err := q.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionWebhookUpdated, webhookPrincipal(w), changes)
	})
	return w, err
}

// DeleteWebhook removes a webhook and its deliveries, sent or not;
// super_admin only.
func (a *App) DeleteWebhook(ctx context.Context, ac Actor, slug, id string) error {
	ctx, span := tracer.Start(ctx, "app.DeleteWebhook")
	defer span.End()
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		w, err := a.webhookOf(ctx, q, org, id)
		if err != nil {
			return err
		}
		if err := q.DeleteWebhook(ctx, org.ID, id); err != nil {
			return err
		}
		// Written after the delete: this event is not sent to the webhook
		// it tells of.
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionWebhookDeleted, webhookPrincipal(w), map[string]any{"url": urlOrigin(w.URL)})
	})
}

// ListWebhookDeliveries returns a page of a webhook's deliveries, newest
// first, with their attempts; super_admin only.
func (a *App) ListWebhookDeliveries(ctx context.Context, ac Actor, slug, id string, p tollgate.Page) ([]tollgate.WebhookDelivery, string, error) {
	ctx, span := tracer.Start(ctx, "app.ListWebhookDeliveries")
	defer span.End()
	if err := validateList("", p); err != nil {
		return nil, "", err
	}
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleSuperAdmin)
	if err != nil {
		return nil, "", err
	}
	if _, err := a.webhookOf(ctx, a.store, org, id); err != nil {
		return nil, "", err
	}
	return a.store.ListWebhookDeliveries(ctx, id, p)
}

// webhookPayload is a message's body: the Standard Webhooks envelope,
// {type, timestamp, data}.
type webhookPayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// auditData is an audit event in a message, as the admin API shows it.
type auditData struct {
	ID      string         `json:"id"`
	Time    time.Time      `json:"time"`
	OrgID   string         `json:"org_id"`
	Actor   principalData  `json:"actor"`
	Action  string         `json:"action"`
	Target  principalData  `json:"target"`
	IP      string         `json:"ip"`
	Details map[string]any `json:"details"`
}

type principalData struct {
	Type tollgate.PrincipalType `json:"type"`
	ID   string                 `json:"id"`
	Name string                 `json:"name"`
}

// enqueue writes event to the outbox of org in q, for every webhook of the
// org that wants it: in the transaction of the change, so that a message
// exists exactly when the change does (P2).
func (a *App) enqueue(ctx context.Context, q tollgate.Queries, orgID, event string, data any) error {
	if orgID == "" {
		return nil
	}
	hooks, err := q.ListWebhooks(ctx, orgID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	var ids []string
	for i := range hooks {
		if hooks[i].Wants(event) {
			ids = append(ids, hooks[i].ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := a.now()
	body, err := json.Marshal(webhookPayload{Type: event, Timestamp: now, Data: data})
	if err != nil {
		return err
	}
	return q.EnqueueWebhookMessage(ctx, &tollgate.WebhookMessage{ID: tollgate.NewID(tollgate.PrefixWebhookMessage, now),
		OrgID: orgID, Event: event, Payload: body, CreatedAt: now}, ids)
}

func auditPayload(e *tollgate.AuditEvent) auditData {
	p := func(x tollgate.Principal) principalData { return principalData{Type: x.Type, ID: x.ID, Name: x.Name} }
	return auditData{ID: e.ID, Time: e.Time, OrgID: e.OrgID, Actor: p(e.Actor), Action: e.Action, Target: p(e.Target), IP: e.IP, Details: e.Details}
}
