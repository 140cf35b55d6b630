package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/lending"
)

func (s *Server) guaranteeRoutes(r chi.Router) {
	g := s.requireRole(lending.RoleGuarantor)
	r.With(g, s.idempotent, s.theLoan).Post("/v1/loans/{id}/guarantee", s.guaranteeDecide)
	r.With(g).Get("/v1/me/guarantees", s.guarantees)
}

type guaranteeRequest struct {
	Decision lending.Decision `json:"decision"`
}

// guaranteeDecide is the named guarantor's answer (担保, docs/rules.md
// "Guarantor"; loans.Service.AnswerGuarantee). Only the guarantor the
// borrower named may answer: theLoan answers any other guarantor 404, as for
// anyone else's loan.
func (s *Server) guaranteeDecide(w http.ResponseWriter, r *http.Request) {
	var req guaranteeRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Decision != lending.Accept && req.Decision != lending.Decline {
		s.writeError(w, r, Validation(FieldError{Field: "decision", Message: "must be accept or decline"}))
		return
	}
	me, _ := userFrom(r.Context())
	status, err := s.loans.AnswerGuarantee(r.Context(), me, loanFrom(r), req.Decision, idempotencyKey(r.Context()))
	s.answerUpdate(w, r, http.StatusOK, status, err)
}

type guaranteeItem struct {
	LoanID      int64          `json:"loan_id"`
	Status      lending.Status `json:"status"`
	Amount      string         `json:"amount"`
	Compensated string         `json:"compensated"`
	Recovered   string         `json:"recovered"`
}

// guarantees lists what each of the caller's guarantees has cost and
// brought back (loans.Service.Guarantees).
func (s *Server) guarantees(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	rows, err := s.loans.Guarantees(r.Context(), me.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []guaranteeItem `json:"items"`
	}{Items: []guaranteeItem{}}
	for _, g := range rows {
		out.Items = append(out.Items, guaranteeItem{LoanID: g.LoanID, Status: g.Status, Amount: fmtMoney(g.Amount),
			Compensated: fmtMoney(g.Compensated), Recovered: fmtMoney(g.Recovered)})
	}
	writeJSON(w, http.StatusOK, out)
}
