package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/money"
)

// loanRoutes mounts the borrower's loan endpoints, the listings, and ops.
func (s *Server) loanRoutes(r chi.Router) {
	borrower := s.requireRole(lending.RoleBorrower)
	r.With(borrower, s.idempotent).Post("/v1/loans", s.loanCreate)
	r.With(s.requireRole(lending.RoleBorrower, lending.RoleGuarantor, lending.RoleOps)).Get("/v1/loans/{id}", s.loanGet)
	r.With(borrower, s.idempotent, s.theLoan).Post("/v1/loans/{id}/cancel", s.bodyless(loans.Service.Cancel, http.StatusOK))
	r.With(s.requireRole(lending.RoleBorrower, lending.RoleInvestor, lending.RoleOps)).Get("/v1/loans/{id}/schedule", s.loanSchedule)
	r.With(borrower, s.idempotent, s.theLoan).Post("/v1/loans/{id}/repayment-authorization", s.loanAuthorize)
	r.With(borrower, s.idempotent, s.theLoan).Post("/v1/loans/{id}/repayments", s.loanRepay)

	r.With(s.requireRole(lending.Roles...)).Get("/v1/listings", s.listingList)
	r.With(s.requireRole(lending.Roles...)).Get("/v1/listings/{id}", s.listingGet)
	r.With(s.requireRole(lending.RoleInvestor), s.idempotentBid).Post("/v1/listings/{id}/bids", s.bidCreate)
	r.With(s.requireRole(lending.RoleInvestor)).Get("/v1/me/holdings", s.holdings)
	r.With(s.requireRole(lending.RoleInvestor)).Get("/v1/me/bids", s.myBids)
	r.With(s.requireRole(lending.RoleInvestor)).Put("/v1/me/auto-invest", s.autoInvestPut)

	ops := s.requireRole(lending.RoleOps)
	r.With(ops).Get("/v1/ops/loans", s.opsLoans)
	r.With(ops, s.idempotent, s.theLoan).Post("/v1/ops/loans/{id}/due-diligence", s.opsDecision(loans.DueDiligence))
	r.With(ops, s.idempotent, s.theLoan).Post("/v1/ops/loans/{id}/full-tender-review", s.opsDecision(loans.FullTenderReview))
	r.With(ops, s.idempotent, s.theLoan).Post("/v1/ops/loans/{id}/write-off", s.opsDecision(loans.WriteOff))
	r.With(ops, s.idempotent, s.theLoan).Post("/v1/ops/loans/{id}/disbursement/retry", s.bodyless(loans.Service.RetryDisbursement, http.StatusAccepted))
	if s.ClockMode == clock.Sandbox {
		r.With(ops).Post("/v1/ops/clock/advance", s.clockAdvance)
	}
	r.With(ops).Get("/v1/ops/reconciliation", s.reconciliationList)
	r.With(ops).Get("/v1/ops/reconciliation/{date}", s.reconciliation)
	r.Get("/v1/clock", s.clockGet)
	r.Get("/v1/calculator/schedule", s.calculator)
	r.Get("/v1/stats", s.stats)
}

type loanKey struct{}

// theLoan puts the loan the path names in the request's context, when the
// caller may see it (loans.Service.Get), before the handler reads the body:
// another user's loan is 404 whatever the body says, exactly as a loan that
// does not exist (docs/api.md "Conventions").
func (s *Server) theLoan(next http.Handler) http.Handler { return s.loanIn(s.writeError)(next) }

// loanIn is theLoan answering a refusal with fail (the console's pages
// answer HTML).
func (s *Server) loanIn(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			me, _ := userFrom(r.Context())
			loan, err := s.loans.Get(r.Context(), me, loanID(r))
			if err != nil {
				fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loanKey{}, loan)))
		})
	}
}

// loanFrom is the loan theLoan found.
func loanFrom(r *http.Request) loans.Loan {
	l, _ := r.Context().Value(loanKey{}).(loans.Loan)
	return l
}

// loanID is the loan the path names; 0 (which is no loan's) when it names
// none.
func loanID(r *http.Request) int64 {
	id, _ := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	return id
}

type loanCreateRequest struct {
	Amount          string `json:"amount"`
	TermMonths      int    `json:"term_months"`
	RepaymentMethod string `json:"repayment_method"`
	Purpose         string `json:"purpose"`
	MonthlyIncome   string `json:"monthly_income"`
	GuarantorUserID *int64 `json:"guarantor_user_id"`
}

// application reads an application, naming every invalid field at once.
func application(r *http.Request, me User) (loans.Application, error) {
	var req loanCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return loans.Application{}, err
	}
	var fields []FieldError
	amount, fe := parseMoney("amount", req.Amount)
	if fe != nil {
		fields = append(fields, *fe)
	} else if amount.LessThan(lending.MinAmount) || amount.GreaterThan(lending.MaxAmount) {
		fields = append(fields, FieldError{Field: "amount", Message: "must be 1000.00 to 200000.00"})
	}
	if req.TermMonths < lending.MinTermMonths || req.TermMonths > lending.MaxTermMonths {
		fields = append(fields, FieldError{Field: "term_months", Message: "must be 1 to 36"})
	}
	if _, err := money.ParseMethod(req.RepaymentMethod); err != nil {
		fields = append(fields, FieldError{Field: "repayment_method", Message: "must be equal_installment, equal_principal, interest_only or bullet"})
	}
	if p := strings.TrimSpace(req.Purpose); p == "" || len(p) > 500 {
		fields = append(fields, FieldError{Field: "purpose", Message: "required, at most 500 bytes"})
	}
	income, fe := parseMoney("monthly_income", req.MonthlyIncome)
	if fe != nil {
		fields = append(fields, *fe)
	}
	if req.GuarantorUserID != nil && *req.GuarantorUserID == me.ID {
		fields = append(fields, FieldError{Field: "guarantor_user_id", Message: "a borrower cannot guarantee their own loan"})
	}
	if len(fields) > 0 {
		return loans.Application{}, Validation(fields...)
	}
	return loans.Application{Amount: amount, TermMonths: req.TermMonths, RepaymentMethod: req.RepaymentMethod,
		Purpose: req.Purpose, MonthlyIncome: income, GuarantorID: req.GuarantorUserID}, nil
}

type loanCreateResponse struct {
	LoanID     int64          `json:"loan_id"`
	Status     lending.Status `json:"status"`
	WorkflowID string         `json:"workflow_id"`
}

func (s *Server) loanCreate(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	app, err := application(r, me)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loan, err := s.loans.Apply(r.Context(), me, app, idempotencyKey(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, loanCreateResponse{LoanID: loan.ID, Status: loan.Status, WorkflowID: loan.WorkflowID})
}

type historyItem struct {
	Status lending.Status `json:"status"`
	At     time.Time      `json:"at"`
	Date   string         `json:"business_date"`
	Note   string         `json:"note"`
}

type loanResponse struct {
	LoanID           int64          `json:"loan_id"`
	Status           lending.Status `json:"status"`
	Amount           string         `json:"amount"`
	TermMonths       int            `json:"term_months"`
	RepaymentMethod  string         `json:"repayment_method"`
	Purpose          string         `json:"purpose"`
	Grade            *string        `json:"grade"`
	AnnualRate       *string        `json:"annual_rate"`
	Raised           string         `json:"raised"`
	Newbie           bool           `json:"newbie"`
	ListingExpiresAt *time.Time     `json:"listing_expires_at"`
	DisbursedOn      *string        `json:"disbursed_on"`
	WorkflowID       string         `json:"workflow_id"`
	History          []historyItem  `json:"history"`
	GuarantorUserID  *int64         `json:"guarantor_user_id"`
}

func (s *Server) loanGet(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	v, err := s.loans.View(r.Context(), me, loanID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loan := v.Loan
	resp := loanResponse{
		LoanID: loan.ID, Status: loan.Status, Amount: fmtMoney(loan.Amount), TermMonths: loan.TermMonths,
		RepaymentMethod: loan.RepaymentMethod, Purpose: loan.Purpose, Grade: loan.Grade, Raised: fmtMoney(loan.Raised),
		Newbie: loan.Newbie, WorkflowID: loan.WorkflowID, History: []historyItem{}, GuarantorUserID: loan.GuarantorID,
		ListingExpiresAt: expiresAt(loan.ListingExpiresOn), AnnualRate: rateString(loan.AnnualRate),
	}
	if loan.DisbursedOn != nil {
		d := loan.DisbursedOn.Format(time.DateOnly)
		resp.DisbursedOn = &d
	}
	for _, h := range v.History {
		resp.History = append(resp.History, historyItem{Status: h.Status, At: h.At, Date: h.BusinessDate.Format(time.DateOnly), Note: h.Note})
	}
	writeJSON(w, http.StatusOK, resp)
}

// expiresAt: a listing closes at the start of its expiry date, platform time.
func expiresAt(d *time.Time) *time.Time {
	if d == nil {
		return nil
	}
	t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, lending.Shanghai)
	return &t
}

func rateString(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

// bodyless answers a request to the loan's workflow that takes no body
// (cancel, and the disbursement retry, which answers 202 even when it is
// taken: the retried batch goes on in the workflow) with ok and the loan's
// new status. send is the loans.Service method, called on the server's
// service as it is when the request comes.
func (s *Server) bodyless(send func(loans.Service, context.Context, User, loans.Loan, string) (lending.Status, error), ok int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := requireNoBody(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		me, _ := userFrom(r.Context())
		status, err := send(s.loans, r.Context(), me, loanFrom(r), idempotencyKey(r.Context()))
		s.answerUpdate(w, r, ok, status, err)
	}
}

// answerUpdate answers a request to a loan's workflow: the loan's new
// status with ok, or why not (updateFailed).
func (s *Server) answerUpdate(w http.ResponseWriter, r *http.Request, ok int, status lending.Status, err error) {
	if err != nil {
		s.updateFailed(w, r, err)
		return
	}
	writeJSON(w, ok, map[string]string{"status": string(status)})
}

type stillRunningResponse struct {
	Status string `json:"status"` // processing
	LoanID int64  `json:"loan_id"`
	Poll   string `json:"poll"`
}

// updateFailed answers a request to a loan's workflow that did not end in
// an answer: 202 when it is still running (the loan to poll; the same
// request sent again with its Idempotency-Key answers the outcome once there
// is one), the problem otherwise.
func (s *Server) updateFailed(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, loans.ErrStillRunning) {
		s.writeError(w, r, err)
		return
	}
	id := loanFrom(r).ID
	poll := fmt.Sprintf("/v1/loans/%d", id)
	w.Header().Set("Location", poll)
	writeJSON(w, http.StatusAccepted, stillRunningResponse{Status: "processing", LoanID: id, Poll: poll})
}

type installmentResponse struct {
	No            int                       `json:"no"`
	DueDate       string                    `json:"due_date"`
	Principal     string                    `json:"principal"`
	Interest      string                    `json:"interest"`
	Penalty       string                    `json:"penalty"`
	Paid          string                    `json:"paid"`
	PaidPrincipal string                    `json:"paid_principal"`
	PaidInterest  string                    `json:"paid_interest"`
	PaidPenalty   string                    `json:"paid_penalty"`
	Compensated   string                    `json:"compensated"`
	Status        lending.InstallmentStatus `json:"status"`
}

// loanSchedule is the installments as of the business date
// (loans.Service.Schedule).
func (s *Server) loanSchedule(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	insts, err := s.loans.Schedule(r.Context(), me, loanID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Installments []installmentResponse `json:"installments"`
	}{Installments: []installmentResponse{}}
	for _, i := range insts {
		out.Installments = append(out.Installments, installmentResponse{
			No: i.No, DueDate: i.DueDate.Format(time.DateOnly), Principal: fmtMoney(i.Principal), Interest: fmtMoney(i.Interest),
			Penalty: fmtMoney(i.Penalty), Paid: fmtMoney(i.Paid()), Status: i.Status,
			PaidPrincipal: fmtMoney(i.PaidPrincipal), PaidInterest: fmtMoney(i.PaidInterest), PaidPenalty: fmtMoney(i.PaidPenalty),
			Compensated: fmtMoney(i.Compensated),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

type authorizationRequest struct {
	MaxAmount string `json:"max_amount"`
	ExpiresOn string `json:"expires_on"`
}

type authorizationResponse struct {
	LoanID    int64  `json:"loan_id"`
	MaxAmount string `json:"max_amount"`
	ExpiresOn string `json:"expires_on"`
}

func (s *Server) loanAuthorize(w http.ResponseWriter, r *http.Request) {
	var req authorizationRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	max, fe := parseMoney("max_amount", req.MaxAmount)
	if fe != nil {
		fields = append(fields, *fe)
	}
	expires, perr := time.Parse(time.DateOnly, req.ExpiresOn)
	if perr != nil {
		fields = append(fields, FieldError{Field: "expires_on", Message: "must be a date YYYY-MM-DD"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	auth, err := s.loans.Authorize(r.Context(), loanFrom(r), max, expires)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, authorizationResponse{LoanID: auth.LoanID, MaxAmount: fmtMoney(auth.MaxAmount), ExpiresOn: auth.ExpiresOn.Format(time.DateOnly)})
}

type repaymentRequest struct {
	Kind lending.RepayKind `json:"kind"`
}

type repaymentResponse struct {
	Amount string `json:"amount"`
	Status string `json:"status"`
}

func (s *Server) loanRepay(w http.ResponseWriter, r *http.Request) {
	var req repaymentRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Kind != lending.RepayNext && req.Kind != lending.RepayPayoff {
		s.writeError(w, r, Validation(FieldError{Field: "kind", Message: "must be next or payoff"}))
		return
	}
	me, _ := userFrom(r.Context())
	paid, err := s.loans.Repay(r.Context(), me, loanFrom(r), req.Kind, idempotencyKey(r.Context()))
	if err != nil {
		s.updateFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, repaymentResponse{Amount: fmtMoney(paid.Amount), Status: paid.Status})
}
