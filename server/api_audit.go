package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// auditFilter reads the audit list filters from the query string.
func auditFilter(r *http.Request) (tollgate.AuditFilter, error) {
	q := r.URL.Query()
	f := tollgate.AuditFilter{ActorID: q.Get("actor_id"), Action: q.Get("action"), TargetID: q.Get("target_id")}
	for name, v := range map[string]string{"actor_id": f.ActorID, "action": f.Action, "target_id": f.TargetID} {
		if len(v) > 100 {
			return f, tollgate.Invalidf(name, "%s must be at most 100 characters", name)
		}
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, tollgate.Invalidf(name, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
			}
			*dst = t.UTC()
		}
	}
	return f, nil
}

// handleListAuditEvents: GET /api/v1/orgs/{org}/audit-events → list, newest first.
func (s *Server) handleListAuditEvents(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	evs, next, err := s.app.ListAuditEvents(r.Context(), ac, r.PathValue("org"), f, p)
	if err != nil {
		return err
	}
	items := make([]auditEventJSON, len(evs))
	for i := range evs {
		items[i] = toAuditEvent(&evs[i])
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// An export extends its write deadline by exportChunkTime every
// exportChunk events.
const (
	exportChunk     = 200
	exportChunkTime = 30 * time.Second
)

// handleExportAuditEvents: GET /api/v1/orgs/{org}/audit-events/export →
// every matching event as JSON lines, newest first.
func (s *Server) handleExportAuditEvents(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	started, n := false, 0
	err = s.app.ExportAuditEvents(r.Context(), ac, r.PathValue("org"), f, func(e tollgate.AuditEvent) error {
		if n%exportChunk == 0 {
			// A long export is not cut by the write timeout while it
			// flows; a client that stops reading still is.
			rc.SetWriteDeadline(time.Now().Add(exportChunkTime))
		}
		n++
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Content-Disposition", `attachment; filename="audit-events.ndjson"`)
			started = true
		}
		return enc.Encode(toAuditEvent(&e))
	})
	if err != nil && started {
		// The status is sent; all that is left is to cut the stream short.
		s.log.ErrorContext(r.Context(), "audit export interrupted", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	return nil
}
