package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/reconcile"
)

// reconciliation compares the bank's file of a business date with the
// ledger (reconcile.Reports.Day).
func (s *Server) reconciliation(w http.ResponseWriter, r *http.Request) {
	date, err := time.Parse(time.DateOnly, chi.URLParam(r, "date"))
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "date", Message: "must be a date YYYY-MM-DD"}))
		return
	}
	rep, _, err := s.reports.Day(r.Context(), date)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

type closedDayItem struct {
	reconcile.Report
	Origin string    `json:"origin"`
	RunAt  time.Time `json:"run_at"`
}

// reconciliationList lists closed days by the status of their latest close
// (GET /v1/ops/reconciliation?status=mismatched): the days a person must
// look at, each with its differences and the ledger audit's outcome, newest
// day first. The cursor is the last day of the page.
func (s *Server) reconciliationList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var fields []FieldError
	status := q.Get("status")
	if status == "" {
		status = reconcile.Mismatched
	}
	if status != reconcile.Mismatched && status != reconcile.Matched {
		fields = append(fields, FieldError{Field: "status", Message: "must be mismatched or matched"})
	}
	var before *time.Time
	if c := q.Get("cursor"); c != "" {
		d, err := time.Parse(time.DateOnly, c)
		if err != nil {
			fields = append(fields, FieldError{Field: "cursor", Message: "not a cursor this API gave"})
		}
		before = &d
	}
	pageSize, fe := pageLimit(r)
	if fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	days, err := s.reports.Closed(r.Context(), status, before, pageSize+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(days, pageSize, func(d reconcile.ClosedDay) closedDayItem {
		return closedDayItem{Report: d.Report, Origin: d.Origin, RunAt: d.RunAt}
	}, func(d reconcile.ClosedDay) string { return d.Date }))
}
