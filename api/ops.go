package api

import (
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/money"
)

type opsLoanItem struct {
	LoanID     int64          `json:"loan_id"`
	BorrowerID int64          `json:"borrower_id"`
	Status     lending.Status `json:"status"`
	Amount     string         `json:"amount"`
	TermMonths int            `json:"term_months"`
	Grade      *string        `json:"grade"`
	AnnualRate *string        `json:"annual_rate"`
	Raised     string         `json:"raised"`
	AppliedOn  string         `json:"applied_on"`
	WorkflowID string         `json:"workflow_id"`
}

// opsLoans is the ops work queue, oldest first (loans.Service.ByStatus).
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
	found, err := s.loans.ByStatus(r.Context(), status, after, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(found, limit, func(l loans.Loan) opsLoanItem {
		return opsLoanItem{
			LoanID: l.ID, BorrowerID: l.BorrowerID, Status: l.Status, Amount: fmtMoney(l.Amount), TermMonths: l.TermMonths,
			Grade: l.Grade, AnnualRate: rateString(l.AnnualRate), Raised: fmtMoney(l.Raised),
			AppliedOn: l.AppliedOn.Format(time.DateOnly), WorkflowID: l.WorkflowID,
		}
	}, func(l loans.Loan) string { return idCursor(l.ID) }))
}

type decisionRequest struct {
	Decision   lending.Decision `json:"decision"`
	Grade      *string          `json:"grade"`
	AnnualRate *string          `json:"annual_rate"`
	Note       string           `json:"note"`
}

// opsDecision answers due diligence, full-tender review and write-off
// (loans.Service.Decide).
func (s *Server) opsDecision(step loans.Step) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req decisionRequest
		if err := decodeJSON(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		d, err := decision(step, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		me, _ := userFrom(r.Context())
		status, err := s.loans.Decide(r.Context(), me, loanFrom(r), step, d, idempotencyKey(r.Context()))
		s.answerUpdate(w, r, http.StatusOK, status, err)
	}
}

// decision reads an ops decision at step, naming every invalid field at
// once: approve or reject, a note of at most 2000 bytes, and a grade (A to
// E) and rate (0 to 0.24) only at due diligence. The JSON API and the
// console both read decisions here.
func decision(step loans.Step, req decisionRequest) (loans.Decision, error) {
	var fields []FieldError
	if req.Decision != lending.Approve && req.Decision != lending.Reject {
		fields = append(fields, FieldError{Field: "decision", Message: "must be approve or reject"})
	}
	if len(req.Note) > audit.MaxNote {
		fields = append(fields, FieldError{Field: "note", Message: "at most 2000 bytes"})
	}
	d := loans.Decision{Decision: req.Decision, Note: req.Note}
	if step != loans.DueDiligence && (req.Grade != nil || req.AnnualRate != nil) {
		fields = append(fields, FieldError{Field: "grade", Message: "grade and rate change only at due diligence"})
	}
	if req.Grade != nil {
		if _, err := money.TermsFor(money.Grade(*req.Grade)); err != nil {
			fields = append(fields, FieldError{Field: "grade", Message: "must be A to E"})
		}
		d.Grade = *req.Grade
	}
	if req.AnnualRate != nil {
		rate, fe := parseRate("annual_rate", *req.AnnualRate, lending.MaxAnnualRate)
		if fe != nil {
			fields = append(fields, *fe)
		}
		d.AnnualRate = &rate
	}
	if len(fields) > 0 {
		return d, Validation(fields...)
	}
	return d, nil
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
// to the new date (docs/api.md "Sandbox clock"; clock.Clock.AdvanceBy).
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
	me, _ := userFrom(r.Context())
	today, mode, err := s.Clock.AdvanceBy(r.Context(), me.ID, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clockResponse{Today: today.Format(time.DateOnly), Mode: mode})
}

type calcInstallment struct {
	No                 int    `json:"no"`
	DueDate            string `json:"due_date"`
	Principal          string `json:"principal"`
	Interest           string `json:"interest"`
	Payment            string `json:"payment"`
	RemainingPrincipal string `json:"remaining_principal"`
}

// installmentsBody is a schedule as the calculator shows it; listings show theirs the same way.
func installmentsBody(sched []money.Installment) []calcInstallment {
	out := make([]calcInstallment, 0, len(sched))
	for _, i := range sched {
		out = append(out, calcInstallment{
			No: i.No, DueDate: i.DueDate.Format(time.DateOnly), Principal: fmtMoney(i.Principal), Interest: fmtMoney(i.Interest),
			Payment: fmtMoney(i.Payment), RemainingPrincipal: fmtMoney(i.RemainingPrincipal),
		})
	}
	return out
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
	}
	out.Installments = installmentsBody(sched)
	out.TotalInterest, out.TotalPayment = fmtMoney(totalI), fmtMoney(totalP)
	writeJSON(w, http.StatusOK, out)
}
