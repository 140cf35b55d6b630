package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

func (s *Server) guaranteeRoutes(r chi.Router) {
	g := s.requireRole(lending.RoleGuarantor)
	r.With(g, s.idempotent).Post("/v1/loans/{id}/guarantee", s.guaranteeDecide)
	r.With(g).Get("/v1/me/guarantees", s.guarantees)
}

type guaranteeRequest struct {
	Decision lending.Decision `json:"decision"`
}

// guaranteeDecide is the named guarantor's answer (担保, docs/rules.md
// "guarantor"): accept, and the loan is listed; decline, and it ends
// rejected. Only the guarantor the borrower named may answer — loanFor
// answers any other guarantor 404, as for anyone else's loan — and only with
// a guarantor custody account to compensate from.
func (s *Server) guaranteeDecide(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me, _ := userFrom(r.Context())
	var req guaranteeRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Decision != lending.Accept && req.Decision != lending.Decline {
		s.writeError(w, r, Validation(FieldError{Field: "decision", Message: "must be accept or decline"}))
		return
	}
	if req.Decision == lending.Accept && me.CustodyAccountNo == nil {
		s.writeError(w, r, errs.New(errs.NoCustodyAccount, "open a guarantor custody account before accepting"))
		return
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	var reply workflows.StatusReply
	if err := s.update(r.Context(), loan, workflows.UpdateGuarantee,
		workflows.GuaranteeDecision{Decision: req.Decision, GuarantorID: me.ID, Today: today}, &reply); err != nil {
		s.updateFailed(w, r, loan, err)
		return
	}
	writeJSON(w, http.StatusOK, statusBody(reply))
}

type guaranteeItem struct {
	LoanID      int64          `json:"loan_id"`
	Status      lending.Status `json:"status"`
	Amount      string         `json:"amount"`
	Compensated string         `json:"compensated"`
	Recovered   string         `json:"recovered"`
}

// guarantees lists what each of the caller's guarantees has cost
// (compensations paid) and brought back (the borrower's later payments of the
// claims it took over, and recoveries after a write-off).
func (s *Server) guarantees(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	rows, err := s.Q.GuaranteeListByGuarantor(r.Context(), &me.ID)
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
