package api

import (
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/lending"
)

// webhookRoutes mounts the webhooks' registration and their deliveries
// (docs/events.md "Webhooks").
func (s *Server) webhookRoutes(r chi.Router) {
	ops := s.requireRole(lending.RoleOps)
	r.With(ops, s.idempotent).Post("/v1/ops/webhooks", s.webhookCreate)
	r.With(ops).Get("/v1/ops/webhooks/{id}/deliveries", s.webhookDeliveries)
}

func (s *Server) webhooks() events.Webhooks {
	return events.Webhooks{Pool: s.Pool, Policy: s.WebhookPolicy}
}

type webhookRequest struct {
	URL   string   `json:"url"`
	Types []string `json:"types"`
}

type webhookResponse struct {
	WebhookID int64  `json:"webhook_id"`
	Secret    string `json:"secret"`
}

// webhookCreate registers a webhook: 201 {webhook_id, secret}. The secret
// signs every delivery and is shown here only.
func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	me, _ := userFrom(r.Context())
	reg, err := s.webhooks().Register(r.Context(), me.ID, req.URL, req.Types)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, webhookResponse{WebhookID: reg.ID, Secret: reg.Secret})
}

type deliveryItem struct {
	EventID        int64      `json:"event_id"`
	Attempts       int        `json:"attempts"`
	Status         string     `json:"status"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      string     `json:"last_error,omitempty"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
}

// webhookDeliveries lists a webhook's deliveries, newest event first, paged
// (cursor, limit), of one status with ?status=.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		s.writeError(w, r, errs.New(errs.NotFound, "no such webhook"))
		return
	}
	var fields []FieldError
	before, limit := pageAsked(r, &fields)
	status := r.URL.Query().Get("status")
	if status != "" && status != events.Pending && status != events.Delivered && status != events.Failed {
		fields = append(fields, FieldError{Field: "status", Message: "pending, delivered or failed"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	items, err := s.webhooks().Deliveries(r.Context(), id, before, status, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(items, limit, func(d events.Delivery) deliveryItem {
		it := deliveryItem{EventID: d.EventID, Attempts: d.Attempts, Status: d.Status, LastError: d.LastError,
			NextAttemptAt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt}
		if d.LastStatusCode != 0 {
			it.LastStatusCode = &d.LastStatusCode
		}
		return it
	}, func(d events.Delivery) string { return idCursor(d.EventID) }))
}
