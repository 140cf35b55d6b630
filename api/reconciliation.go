package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/reconcile"
)

// reconciliation compares the bank's file of a business date with the ledger.
func (s *Server) reconciliation(w http.ResponseWriter, r *http.Request) {
	date, err := time.Parse(time.DateOnly, chi.URLParam(r, "date"))
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "date", Message: "must be a date YYYY-MM-DD"}))
		return
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	rep, err := reconcile.Run(r.Context(), s.Q, s.BankFiles, date, today)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
