package api

import (
	"context"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/workflows"
)

type opsLoanItem struct {
	LoanID     int64          `json:"loan_id"`
	BorrowerID int64          `json:"borrower_id"`
	Status     lending.Status `json:"status"`
	Amount     string         `json:"amount"`
	TermMonths int32          `json:"term_months"`
	Grade      *string        `json:"grade"`
	AnnualRate *string        `json:"annual_rate"`
	Raised     string         `json:"raised"`
	AppliedOn  string         `json:"applied_on"`
	WorkflowID string         `json:"workflow_id"`
}

// opsLoans is the ops work queue, oldest first. It reads PostgreSQL, not
// Temporal visibility, which is only eventually consistent (docs/workflow.md "Temporal's limits").
func (s *Server) opsLoans(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	status := lending.Status(r.URL.Query().Get("status"))
	if !status.Valid() {
		fields = append(fields, FieldError{Field: "status", Message: "must be a loan status"})
	}
	after, limit := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	loans, err := s.Q.LoanListByStatus(r.Context(), dbq.LoanListByStatusParams{Status: status, AfterID: after, Lim: int32(limit + 1)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(loans, limit, func(l dbq.Loan) opsLoanItem {
		return opsLoanItem{
			LoanID: l.ID, BorrowerID: l.BorrowerID, Status: l.Status, Amount: fmtMoney(l.Amount), TermMonths: l.TermMonths,
			Grade: l.Grade, AnnualRate: rateString(l.AnnualRate), Raised: fmtMoney(l.Raised),
			AppliedOn: l.AppliedOn.Format(time.DateOnly), WorkflowID: l.WorkflowID,
		}
	}, func(l dbq.Loan) string { return idCursor(l.ID) }))
}

type decisionRequest struct {
	Decision   lending.Decision `json:"decision"`
	Grade      *string          `json:"grade"`
	AnnualRate *string          `json:"annual_rate"`
	Note       string           `json:"note"`
}

var maxAnnualRate = decimal.RequireFromString("0.24") // the judicial protection line for private lending

// opsDecision answers due diligence, full-tender review and write-off.
func (s *Server) opsDecision(update string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		loan, err := s.loanFor(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var req decisionRequest
		if err := decodeJSON(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		reply, err := s.decide(r.Context(), loan, update, req)
		if err != nil {
			s.updateFailed(w, r, loan, err)
			return
		}
		writeJSON(w, http.StatusOK, statusBody(reply))
	}
}

// decide sends an ops decision (due diligence, full-tender review or
// write-off) to the loan's workflow and records it in the audit log once the
// workflow has taken it. Only due diligence may change the grade and rate.
// The errors: validation_failed (a *Problem naming the fields), the
// workflow's refusals (invalid_state when the loan is not at that step), or
// anything else (a 500). The JSON API and the console both decide here.
func (s *Server) decide(ctx context.Context, loan dbq.Loan, update string, req decisionRequest) (workflows.StatusReply, error) {
	var reply workflows.StatusReply
	var fields []FieldError
	if req.Decision != lending.Approve && req.Decision != lending.Reject {
		fields = append(fields, FieldError{Field: "decision", Message: "must be approve or reject"})
	}
	if len(req.Note) > audit.MaxNote {
		fields = append(fields, FieldError{Field: "note", Message: "at most 2000 bytes"})
	}
	d := workflows.Decision{Decision: req.Decision, Note: req.Note}
	if update != workflows.UpdateDueDiligence && (req.Grade != nil || req.AnnualRate != nil) {
		fields = append(fields, FieldError{Field: "grade", Message: "grade and rate change only at due diligence"})
	}
	if req.Grade != nil {
		if _, err := money.TermsFor(money.Grade(*req.Grade)); err != nil {
			fields = append(fields, FieldError{Field: "grade", Message: "must be A to E"})
		}
		d.Grade = *req.Grade
	}
	if req.AnnualRate != nil {
		rate, fe := parseRate("annual_rate", *req.AnnualRate, maxAnnualRate)
		if fe != nil {
			fields = append(fields, *fe)
		}
		d.AnnualRate = &rate
	}
	if len(fields) > 0 {
		return reply, Validation(fields...)
	}
	var err error
	if d.Today, _, err = s.Clock.Today(ctx); err != nil {
		return reply, err
	}
	if err := s.update(ctx, loan, update, d, &reply); err != nil {
		return reply, err
	}
	s.recordAudit(ctx, nil, auditedUpdates[update], audit.Loan(loan.ID), decisionNote(d))
	return reply, nil
}

// decisionNote is what the audit log keeps of a decision: the decision,
// any new grade or rate, and the ops user's note.
func decisionNote(d workflows.Decision) string {
	out := string(d.Decision)
	if d.Grade != "" {
		out += " grade " + d.Grade
	}
	if d.AnnualRate != nil {
		out += " rate " + d.AnnualRate.String()
	}
	if d.Note != "" {
		out += ": " + d.Note
	}
	return out
}

type clockResponse struct {
	Today string `json:"today"`
	Mode  string `json:"mode"`
}

func (s *Server) clockGet(w http.ResponseWriter, r *http.Request) {
	today, mode, err := s.Clock.Today(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clockResponse{Today: today.Format(time.DateOnly), Mode: mode})
}

// clockAdvanceWrite is how long a clock advance may take to answer.
const clockAdvanceWrite = time.Hour

type clockAdvanceRequest struct {
	To string `json:"to"`
}

// clockAdvance answers only once every loan has handled every event due up
// to the new date (docs/api.md "Sandbox clock").
func (s *Server) clockAdvance(w http.ResponseWriter, r *http.Request) {
	var req clockAdvanceRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	to, fe := parseDate("to", req.To)
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return
	}
	// An advance answers when every loan has handled every event on the way,
	// which can take longer than the server's write timeout allows other
	// answers (app/run.go): this route alone gets clockAdvanceWrite.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(clockAdvanceWrite))
	if err := s.advanceClock(r.Context(), to); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.clockGet(w, r)
}

// checkAdvance refuses an advance the clock must not make: any clock but a
// sandbox one (invalid_state), or a date before the business date
// (validation_failed). It answers the business date.
func (s *Server) checkAdvance(ctx context.Context, to time.Time) (time.Time, error) {
	from, mode, err := s.Clock.Today(ctx)
	if err != nil {
		return from, err
	}
	if mode != clock.Sandbox {
		return from, errs.New(errs.InvalidState, "the clock is in %s mode; only a sandbox clock is advanced by hand", mode)
	}
	if to.Before(from) {
		return from, Validation(FieldError{Field: "to", Message: "must not be before the business date; the clock never goes back"})
	}
	return from, nil
}

// advanceClock moves the sandbox clock to `to`, returns once every loan has
// handled every event up to it, and records the advance in the audit log.
// The JSON API and the console both advance here.
func (s *Server) advanceClock(ctx context.Context, to time.Time) error {
	from, err := s.checkAdvance(ctx, to)
	if err != nil {
		return err
	}
	if err := s.Clock.Advance(ctx, to); err != nil {
		return err
	}
	s.recordAudit(ctx, nil, audit.ClockAdvance, audit.Clock(to), "from "+from.Format(time.DateOnly))
	return nil
}

type calcInstallment struct {
	No                 int    `json:"no"`
	DueDate            string `json:"due_date"`
	Principal          string `json:"principal"`
	Interest           string `json:"interest"`
	Payment            string `json:"payment"`
	RemainingPrincipal string `json:"remaining_principal"`
}

// calculator shows a schedule before anyone applies (docs/rules.md "Money rules").
func (s *Server) calculator(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var fields []FieldError
	principal, fe := parseMoney("principal", q.Get("principal"))
	if fe != nil {
		fields = append(fields, *fe)
	}
	rate, fe := parseRate("annual_rate", q.Get("annual_rate"), decimal.NewFromInt(1))
	if fe != nil {
		fields = append(fields, *fe)
	}
	term, fe := parseInt("term_months", q.Get("term_months"), 1, 36)
	if fe != nil {
		fields = append(fields, *fe)
	}
	method, err := money.ParseMethod(q.Get("method"))
	if err != nil {
		fields = append(fields, FieldError{Field: "method", Message: "must be equal_installment, equal_principal, interest_only or bullet"})
	}
	start := time.Now()
	if sd := q.Get("start_date"); sd != "" {
		if start, fe = parseDate("start_date", sd); fe != nil {
			fields = append(fields, *fe)
		}
	} else if today, _, err := s.Clock.Today(r.Context()); err == nil {
		start = today
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	sched, err := money.Schedule(principal, rate, int(term), method, lending.Date(start))
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "principal", Message: err.Error()}))
		return
	}
	out := struct {
		Installments  []calcInstallment `json:"installments"`
		TotalInterest string            `json:"total_interest"`
		TotalPayment  string            `json:"total_payment"`
	}{Installments: []calcInstallment{}}
	totalI, totalP := decimal.Zero, decimal.Zero
	for _, i := range sched {
		totalI, totalP = totalI.Add(i.Interest), totalP.Add(i.Payment)
		out.Installments = append(out.Installments, calcInstallment{
			No: i.No, DueDate: i.DueDate.Format(time.DateOnly), Principal: fmtMoney(i.Principal), Interest: fmtMoney(i.Interest),
			Payment: fmtMoney(i.Payment), RemainingPrincipal: fmtMoney(i.RemainingPrincipal),
		})
	}
	out.TotalInterest, out.TotalPayment = fmtMoney(totalI), fmtMoney(totalP)
	writeJSON(w, http.StatusOK, out)
}
