package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/lending"
)

// eventRoutes mounts the business event feed (docs/events.md).
func (s *Server) eventRoutes(r chi.Router) {
	r.With(s.requireRole(lending.RoleOps)).Get("/v1/ops/events", s.eventList)
}

type eventPage struct {
	Items     []events.Event `json:"items"`
	NextAfter int64          `json:"next_after"`
}

// eventList answers GET /v1/ops/events?after=&limit=: the events after the
// id after (0, the default: from the first), at most limit (default 100).
// next_after is the last id given, or after itself when there is nothing
// new: the value to ask with next.
func (s *Server) eventList(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	after := int64(0)
	if v := r.URL.Query().Get("after"); v != "" {
		n, fe := parseInt("after", v, 0, 1<<53)
		if fe != nil {
			fields = append(fields, *fe)
		}
		after = n
	}
	limit := int64(100)
	if v := r.URL.Query().Get("limit"); v != "" {
		n, fe := parseInt("limit", v, 1, events.MaxPage)
		if fe != nil {
			fields = append(fields, *fe)
		}
		limit = n
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	evs, err := events.Feed(r.Context(), s.Pool, after, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := eventPage{Items: evs, NextAfter: after}
	if len(evs) > 0 {
		page.NextAfter = evs[len(evs)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}
