package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/lending"
)

func (s *Server) recoveryRoutes(r chi.Router) {
	r.With(s.requireRole(lending.RoleOps), s.idempotent, s.theLoan).Post("/v1/ops/loans/{id}/recoveries", s.recoveryCreate)
}

type recoveryRequest struct {
	Amount string `json:"amount"`
	Note   string `json:"note"`
}

type distributedItem struct {
	UserID *int64 `json:"user_id"` // null: the risk reserve
	Holder string `json:"holder"`  // investor | guarantor | reserve
	Amount string `json:"amount"`
}

type recoveryResponse struct {
	ID          int64             `json:"id"`
	Amount      string            `json:"amount"`
	Status      string            `json:"status"`
	Distributed []distributedItem `json:"distributed"`
}

// recoveryCreate records money recovered after a write-off
// (loans.Service.Recover): 201 once distributed; 202 processing when its
// workflow has not answered within the wait.
func (s *Server) recoveryCreate(w http.ResponseWriter, r *http.Request) {
	var req recoveryRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	amount, fe := parseMoney("amount", req.Amount)
	var fields []FieldError
	if fe != nil {
		fields = append(fields, *fe)
	}
	if note := strings.TrimSpace(req.Note); note == "" || len(note) > 2000 {
		fields = append(fields, FieldError{Field: "note", Message: "required, at most 2000 bytes"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	me, _ := userFrom(r.Context())
	loan := loanFrom(r)
	rec, err := s.loans.Recover(r.Context(), me, loan, amount, req.Note, idempotencyKey(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := recoveryResponse{ID: rec.ID, Amount: fmtMoney(rec.Amount), Status: "succeeded", Distributed: []distributedItem{}}
	if rec.Processing {
		out.Status = "processing"
		w.Header().Set("Location", "/v1/loans/"+strconv.FormatInt(loan.ID, 10))
		writeJSON(w, http.StatusAccepted, out)
		return
	}
	for _, d := range rec.Distributed {
		item := distributedItem{Holder: d.Holder, Amount: fmtMoney(d.Amount)}
		if d.UserID != 0 {
			id := d.UserID
			item.UserID = &id
		}
		out.Distributed = append(out.Distributed, item)
	}
	writeJSON(w, http.StatusCreated, out)
}
