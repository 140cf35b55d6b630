package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/workflows"
)

// loanRoutes mounts the borrower's loan endpoints, the listings, and ops.
func (s *Server) loanRoutes(r chi.Router) {
	r.With(s.requireRole(lending.RoleBorrower), s.idempotent).Post("/v1/loans", s.loanCreate)
	r.With(s.requireRole(lending.RoleBorrower, lending.RoleGuarantor, lending.RoleOps)).Get("/v1/loans/{id}", s.loanGet)
	r.With(s.requireRole(lending.RoleBorrower), s.idempotent).Post("/v1/loans/{id}/cancel", s.dateUpdate(workflows.UpdateCancel, http.StatusOK))
	r.With(s.requireRole(lending.RoleBorrower, lending.RoleInvestor, lending.RoleOps)).Get("/v1/loans/{id}/schedule", s.loanSchedule)
	r.With(s.requireRole(lending.RoleBorrower), s.idempotent).Post("/v1/loans/{id}/repayment-authorization", s.loanAuthorize)
	r.With(s.requireRole(lending.RoleBorrower), s.idempotent).Post("/v1/loans/{id}/repayments", s.loanRepay)

	r.With(s.requireRole(lending.Roles...)).Get("/v1/listings", s.listingList)
	r.With(s.requireRole(lending.Roles...)).Get("/v1/listings/{id}", s.listingGet)
	r.With(s.requireRole(lending.RoleInvestor), s.idempotentBid).Post("/v1/listings/{id}/bids", s.bidCreate)
	r.With(s.requireRole(lending.RoleInvestor)).Get("/v1/me/holdings", s.holdings)
	r.With(s.requireRole(lending.RoleInvestor)).Get("/v1/me/bids", s.myBids)
	r.With(s.requireRole(lending.RoleInvestor)).Put("/v1/me/auto-invest", s.autoInvestPut)

	r.With(s.requireRole(lending.RoleOps)).Get("/v1/ops/loans", s.opsLoans)
	r.With(s.requireRole(lending.RoleOps), s.idempotent).Post("/v1/ops/loans/{id}/due-diligence", s.opsDecision(workflows.UpdateDueDiligence))
	r.With(s.requireRole(lending.RoleOps), s.idempotent).Post("/v1/ops/loans/{id}/full-tender-review", s.opsDecision(workflows.UpdateFullTenderReview))
	r.With(s.requireRole(lending.RoleOps), s.idempotent).Post("/v1/ops/loans/{id}/write-off", s.opsDecision(workflows.UpdateWriteOff))
	r.With(s.requireRole(lending.RoleOps), s.idempotent).Post("/v1/ops/loans/{id}/disbursement/retry", s.dateUpdate(workflows.UpdateRetryDisbursal, http.StatusAccepted))
	if s.ClockMode == clock.Sandbox {
		r.With(s.requireRole(lending.RoleOps)).Post("/v1/ops/clock/advance", s.clockAdvance)
	}
	r.With(s.requireRole(lending.RoleOps)).Get("/v1/ops/reconciliation", s.reconciliationList)
	r.With(s.requireRole(lending.RoleOps)).Get("/v1/ops/reconciliation/{date}", s.reconciliation)
	r.Get("/v1/clock", s.clockGet)
	r.Get("/v1/calculator/schedule", s.calculator)
	r.Get("/v1/stats", s.stats)
}

type loanCreateRequest struct {
	Amount          string `json:"amount"`
	TermMonths      int    `json:"term_months"`
	RepaymentMethod string `json:"repayment_method"`
	Purpose         string `json:"purpose"`
	MonthlyIncome   string `json:"monthly_income"`
	GuarantorUserID *int64 `json:"guarantor_user_id"`
}

type loanCreateResponse struct {
	LoanID     int64          `json:"loan_id"`
	Status     lending.Status `json:"status"`
	WorkflowID string         `json:"workflow_id"`
}

func (s *Server) loanCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, _ := userFrom(ctx)
	var req loanCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	amount, fe := parseMoney("amount", req.Amount)
	if fe != nil {
		fields = append(fields, *fe)
	} else if amount.LessThan(lending.MinAmount) || amount.GreaterThan(lending.MaxAmount) {
		fields = append(fields, FieldError{Field: "amount", Message: "must be 1000.00 to 200000.00"})
	}
	if req.TermMonths < 1 || req.TermMonths > 36 {
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
		s.writeError(w, r, Validation(fields...))
		return
	}
	if me.Locked { // ops locked the user (docs/security.md "Risk controls"): no new loans either
		s.writeError(w, r, errs.New(errs.AccountLocked, "the account is locked"))
		return
	}
	if me.CustodyAccountNo == nil {
		s.writeError(w, r, errs.New(errs.NoCustodyAccount, "open a custody account before applying"))
		return
	}
	if req.GuarantorUserID != nil {
		// A guarantor is a party of its own role (docs/rules.md "guarantor").
		if g, err := s.Q.UserGet(ctx, *req.GuarantorUserID); err != nil || g.Role != lending.RoleGuarantor {
			s.writeError(w, r, errs.New(errs.NotGuarantor, "user %d is not a registered guarantor", *req.GuarantorUserID))
			return
		}
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	// The client may hang up; the application goes on, so that a retry finds it.
	ctx = context.WithoutCancel(ctx)
	key := idempotencyKey(r.Context())
	app := dbq.LoanInsertParams{
		BorrowerID: me.ID, GuarantorID: req.GuarantorUserID, Amount: amount, TermMonths: int32(req.TermMonths),
		RepaymentMethod: req.RepaymentMethod, Purpose: strings.TrimSpace(req.Purpose), MonthlyIncome: income,
		WorkflowID: fmt.Sprintf("pending-%d-%d", me.ID, time.Now().UnixNano()), AppliedOn: today,
	}
	if key != "" {
		app.IdempotencyKey = &key
	}

	var loan dbq.Loan
	var repeat bool
	var capOwed decimal.Decimal
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		// The borrower's lock: two applications at once cannot both pass the
		// principal cap, nor two under one key both insert.
		if err := q.UserLockForMoney(ctx, int32(me.ID)); err != nil {
			return err
		}
		if key != "" {
			prev, err := q.LoanGetByKey(ctx, dbq.LoanGetByKeyParams{BorrowerID: me.ID, IdempotencyKey: &key})
			if err == nil {
				loan, repeat = prev, true
				return nil
			}
			if !errors.Is(err, db.ErrNotFound) {
				return err
			}
		}
		owed, err := q.LoanOutstandingPrincipalByBorrower(ctx, dbq.LoanOutstandingPrincipalByBorrowerParams{BorrowerID: me.ID, ID: 0})
		if err != nil {
			return err
		}
		if owed.Add(amount).GreaterThan(lending.PrincipalCap) {
			capOwed = owed
			return errs.New(errs.LimitExceeded, "outstanding principal would be %s, over the %s cap",
				owed.Add(amount).StringFixed(2), lending.PrincipalCap.StringFixed(2))
		}
		if loan, err = q.LoanInsert(ctx, app); err != nil {
			return err
		}
		loan.WorkflowID = workflows.LoanWorkflowID(loan.ID)
		if err := q.LoanSetWorkflowID(ctx, dbq.LoanSetWorkflowIDParams{ID: loan.ID, WorkflowID: loan.WorkflowID}); err != nil {
			return err
		}
		return q.LoanHistoryInsert(ctx, dbq.LoanHistoryInsertParams{LoanID: loan.ID, Seq: 0, Status: lending.StatusSubmitted, BusinessDate: today, Note: "application received"})
	})
	if err == nil && repeat && !sameApplication(loan, app) {
		err = errs.New(errs.IdempotencyKeyReused, "this Idempotency-Key made loan %d, another application", loan.ID)
	}
	if errs.Code(err) == errs.LimitExceeded {
		s.writeError(w, r, problemFor(err).With("outstanding", fmtMoney(capOwed)).With("cap", fmtMoney(lending.PrincipalCap)))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if loan, err = s.startLoan(ctx, loan, today, repeat, key != ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, loanCreateResponse{LoanID: loan.ID, Status: loan.Status, WorkflowID: loan.WorkflowID})
}

// sameApplication: the loan a key made is the application sent again.
func sameApplication(l dbq.Loan, a dbq.LoanInsertParams) bool {
	sameGuarantor := (l.GuarantorID == nil) == (a.GuarantorID == nil) && (l.GuarantorID == nil || *l.GuarantorID == *a.GuarantorID)
	return l.Amount.Equal(a.Amount) && l.TermMonths == a.TermMonths && l.RepaymentMethod == a.RepaymentMethod &&
		l.Purpose == a.Purpose && l.MonthlyIncome.Equal(a.MonthlyIncome) && sameGuarantor
}

// startLoan starts the loan's workflow, once: its ID derives from the loan
// and a second start is refused (REJECT_DUPLICATE), which is success here.
// A start that fails leaves no workflow to move the loan, so the loan is
// cancelled and the answer is 503. Under an Idempotency-Key the retry finds
// that loan (repeat): one cancelled here, whose workflow never started, is
// opened again and started; one the API crashed before starting, still
// submitted, is started now. So a key gives at most one loan and one
// workflow, and a retry can still get it going.
func (s *Server) startLoan(ctx context.Context, loan dbq.Loan, today time.Time, repeat, keyed bool) (dbq.Loan, error) {
	// Temporal's answers are waited for as an update's are: at most UpdateWait.
	wait := s.UpdateWait
	if wait <= 0 {
		wait = DefaultUpdateWait
	}
	tctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if repeat {
		switch loan.Status {
		case lending.StatusSubmitted:
		case lending.StatusCancelled:
			_, err := s.Temporal.DescribeWorkflowExecution(tctx, loan.WorkflowID, "")
			var nf *serviceerror.NotFound
			if !errors.As(err, &nf) {
				return loan, err // started (and cancelled by its borrower since), or Temporal did not say
			}
			reopened, err := s.Q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: lending.StatusSubmitted, ID: loan.ID, FromStatuses: lending.Strings(lending.StatusCancelled)})
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return loan, err
			}
			if err == nil {
				loan = reopened
			}
		default:
			return loan, nil // its workflow has moved it: started long ago
		}
	}
	_, err := s.Temporal.ExecuteWorkflow(tctx, client.StartWorkflowOptions{
		ID:                    loan.WorkflowID,
		TaskQueue:             workflows.TaskQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// What an engineer sees first in the Temporal UI; the grade comes at
		// screening and shows in the run's current details.
		StaticSummary: workflows.StartSummary(loan.ID, loan.Amount, int(loan.TermMonths), loan.RepaymentMethod),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SALoanStatus.ValueSet(string(lending.StatusSubmitted)),
			workflows.SALoanBorrowerID.ValueSet(loan.BorrowerID),
			workflows.SALoanAmountFen.ValueSet(loan.Amount.Shift(2).IntPart()),
		),
	}, workflows.LoanWorkflowName, workflows.LoanInput{LoanID: loan.ID, BorrowerID: loan.BorrowerID, Amount: loan.Amount,
		TermMonths: int(loan.TermMonths), GuarantorID: deref64(loan.GuarantorID), Today: today})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) && tctx.Err() != nil {
		// No answer in time: the start may have happened. Ask before closing the loan.
		dctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		if _, derr := s.Temporal.DescribeWorkflowExecution(dctx, loan.WorkflowID, ""); derr == nil {
			err = nil
		}
	}
	if err != nil && !errors.As(err, &started) {
		// No workflow means nobody would ever move this loan: close it now.
		s.log(ctx).Error("start loan workflow", logging.LoanID, loan.ID, logging.WorkflowID, loan.WorkflowID, "error", err)
		_, _ = s.Q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: lending.StatusCancelled, ID: loan.ID, FromStatuses: lending.Strings(lending.StatusSubmitted)})
		hint := "try again"
		if keyed {
			hint = "send it again with the same Idempotency-Key"
		}
		return loan, errs.New(errs.Unavailable, "the loan could not be started; %s", hint)
	}
	return loan, nil
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
	TermMonths       int32          `json:"term_months"`
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

// loanFor loads a loan the caller may see: its borrower or ops. Anyone else
// gets 404, not 403, so loan numbers reveal nothing (docs/api.md "Conventions").
func (s *Server) loanFor(r *http.Request) (dbq.Loan, error) {
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		return dbq.Loan{}, errs.New(errs.NotFound, "no such loan")
	}
	loan, err := s.Q.LoanGet(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return loan, errs.New(errs.NotFound, "no such loan")
	}
	if err != nil {
		return loan, err
	}
	me, _ := userFrom(r.Context())
	guarantor := loan.GuarantorID != nil && *loan.GuarantorID == me.ID
	if me.Role != lending.RoleOps && loan.BorrowerID != me.ID && !guarantor {
		return loan, errs.New(errs.NotFound, "no such loan")
	}
	return loan, nil
}

func (s *Server) loanGet(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hist, err := s.Q.LoanHistoryList(r.Context(), loan.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
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
	me, _ := userFrom(r.Context())
	for _, h := range hist {
		note := h.Note
		if me.Role != lending.RoleOps {
			note = borrowerNote(h.Status, h.Note)
		}
		resp.History = append(resp.History, historyItem{Status: h.Status, At: h.At, Date: h.BusinessDate.Format(time.DateOnly), Note: note})
	}
	writeJSON(w, http.StatusOK, resp)
}

// opsNoteKinds are the history rows an ops decision writes: the workflow
// (workflows/loan.go) writes the decision's kind as a prefix, then the ops
// user's note. Ops read the row whole; the borrower reads a neutral line,
// the decision without the note, which is ops' working text (docs/security.md
// "What clients see"). The e2e lifecycle test pins the prefixes to what the
// workflow writes.
var opsNoteKinds = []struct {
	prefix string
	// neutral is the borrower's line for a row entering status.
	neutral func(status lending.Status) string
}{
	{"due diligence: ", func(st lending.Status) string {
		return "due diligence: " + decisionWord(st != lending.StatusRejected)
	}},
	{"full-tender review: ", func(st lending.Status) string {
		return "full-tender review: " + decisionWord(st != lending.StatusReviewRejected)
	}},
	{"write-off declined: ", func(lending.Status) string { return "write-off declined" }},
	{"written off (核销): ", func(lending.Status) string { return "written off (核销)" }},
}

func decisionWord(approved bool) string {
	if approved {
		return string(lending.StatusApproved)
	}
	return string(lending.StatusRejected)
}

// borrowerNote is a history row's note as the borrower sees it.
func borrowerNote(status lending.Status, note string) string {
	for _, k := range opsNoteKinds {
		if strings.HasPrefix(note, k.prefix) {
			return k.neutral(status)
		}
	}
	return note
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

// dateUpdate answers an update that carries only the business date (cancel,
// disbursement retry) with the loan's new status.
func (s *Server) dateUpdate(update string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		loan, err := s.loanFor(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := requireNoBody(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		reply, err := s.dateAction(r.Context(), loan, update)
		if err != nil {
			s.updateFailed(w, r, loan, err)
			return
		}
		writeJSON(w, status, statusBody(reply))
	}
}

// dateAction sends an update that carries only the business date (cancel,
// disbursement retry) and, for an ops action, records it in the audit log
// once the workflow has taken it. The JSON API and the console both act here.
func (s *Server) dateAction(ctx context.Context, loan dbq.Loan, update string) (workflows.StatusReply, error) {
	var reply workflows.StatusReply
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		return reply, err
	}
	if err := s.update(ctx, loan, update, workflows.TodayRequest{Today: today}, &reply); err != nil {
		return reply, err
	}
	if action, ok := auditedUpdates[update]; ok {
		s.recordAudit(ctx, nil, action, audit.Loan(loan.ID), "status "+string(reply.Status))
	}
	return reply, nil
}

// DefaultUpdateWait is how long a request waits on a workflow update (ops
// decisions, repayment by hand, cancel, disbursement retry) before it answers
// 202 with the state to poll: nobody waits blind on a workflow that is slow
// or whose worker is down.
const DefaultUpdateWait = 10 * time.Second

// errStillRunning: the update did not finish within the wait.
var errStillRunning = errors.New("the update is still running")

// update sends an update to the loan's workflow and waits for its answer, at
// most UpdateWait, turning the workflow's refusals back into domain errors;
// past the wait it answers errStillRunning (updateFailed writes the 202).
//
// The update's ID derives from the caller and their Idempotency-Key
// (updateID), so the same request sent again is the same update: Temporal
// runs it once and answers its outcome again, so a retried repayment cannot
// pay the next installment too. Without a key each request is a new update.
func (s *Server) update(ctx context.Context, loan dbq.Loan, name string, arg, reply any) error {
	wait := s.UpdateWait
	if wait <= 0 {
		wait = DefaultUpdateWait
	}
	// The client may hang up: the update is sent and waited for all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:   updateID(ctx, name),
		WorkflowID: loan.WorkflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, reply)
	}
	var ae *temporal.ApplicationError
	var nf *serviceerror.NotFound
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && knownCode(ae.Type()):
		return errs.New(ae.Type(), "%s", ae.Message())
	case errors.As(err, &nf):
		return errs.New(errs.InvalidState, "the loan is %s", loan.Status)
	case ctx.Err() != nil || errors.As(err, &timeout):
		return errStillRunning
	}
	return err
}

// updateID names an update by who sent it and their Idempotency-Key:
// <update name>-<user id>-<first 16 hex digits of sha256(key)>, for example
// repay-12-9f86d081884c7d65. The key is hashed so that no client text lands
// in workflow histories. No key: "", and the SDK makes a fresh ID.
func updateID(ctx context.Context, name string) string {
	key := idempotencyKey(ctx)
	me, ok := userFrom(ctx)
	if key == "" || !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s-%d-%s", name, me.ID, hex.EncodeToString(sum[:])[:16])
}

type stillRunningResponse struct {
	Status string `json:"status"` // processing
	LoanID int64  `json:"loan_id"`
	Poll   string `json:"poll"`
}

// updateFailed answers an update's error: 202 when it is still running (the
// loan to poll; the same request sent again with its Idempotency-Key answers
// the outcome once there is one), the problem otherwise.
func (s *Server) updateFailed(w http.ResponseWriter, r *http.Request, loan dbq.Loan, err error) {
	if !errors.Is(err, errStillRunning) {
		s.writeError(w, r, err)
		return
	}
	poll := fmt.Sprintf("/v1/loans/%d", loan.ID)
	w.Header().Set("Location", poll)
	writeJSON(w, http.StatusAccepted, stillRunningResponse{Status: "processing", LoanID: loan.ID, Poll: poll})
}

type installmentResponse struct {
	No            int32                     `json:"no"`
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

func (s *Server) loanSchedule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, _ := userFrom(ctx)
	id, _ := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	loan, err := s.Q.LoanGet(ctx, id)
	if err == nil && me.Role != lending.RoleOps && loan.BorrowerID != me.ID {
		var holds bool
		if holds, err = s.Q.BidExistsForInvestor(ctx, dbq.BidExistsForInvestorParams{LoanID: id, InvestorID: me.ID}); err == nil && !holds {
			err = db.ErrNotFound
		}
	}
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			err = errs.New(errs.NotFound, "no such loan")
		}
		s.writeError(w, r, err)
		return
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	insts, err := s.Q.InstallmentList(ctx, loan.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Installments []installmentResponse `json:"installments"`
	}{Installments: []installmentResponse{}}
	for _, i := range insts {
		out.Installments = append(out.Installments, installmentAsOf(i, today))
	}
	writeJSON(w, http.StatusOK, out)
}

// installmentAsOf is an installment as the schedule shows it on the
// business date: penalty accrued to today, and overdue from the day after
// its due date even before a collection step has marked it. The console's
// loan page shows the same rows.
func installmentAsOf(i dbq.Installment, today time.Time) installmentResponse {
	status := i.Status
	if status == lending.InstallmentPending && today.After(i.DueDate) {
		status = lending.InstallmentOverdue
	}
	return installmentResponse{
		No: i.No, DueDate: i.DueDate.Format(time.DateOnly), Principal: fmtMoney(i.Principal), Interest: fmtMoney(i.Interest),
		Penalty: fmtMoney(penaltyAsOf(i, today)), Paid: fmtMoney(i.PaidPrincipal.Add(i.PaidInterest).Add(i.PaidPenalty)), Status: status,
		PaidPrincipal: fmtMoney(i.PaidPrincipal), PaidInterest: fmtMoney(i.PaidInterest), PaidPenalty: fmtMoney(i.PaidPenalty),
		Compensated: fmtMoney(i.Compensated),
	}
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
	ctx := r.Context()
	loan, err := s.loanFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req authorizationRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	today, ok := s.today(w, r)
	if !ok {
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
	} else if expires.Before(today) {
		fields = append(fields, FieldError{Field: "expires_on", Message: "must not be in the past"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	if loan.Status.Terminal() {
		s.writeError(w, r, errs.New(errs.InvalidState, "the loan is %s", loan.Status))
		return
	}
	auth, err := s.Q.RepaymentAuthorizationUpsert(ctx, dbq.RepaymentAuthorizationUpsertParams{LoanID: loan.ID, MaxAmount: max, ExpiresOn: expires})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, authorizationResponse{LoanID: loan.ID, MaxAmount: fmtMoney(auth.MaxAmount), ExpiresOn: auth.ExpiresOn.Format(time.DateOnly)})
}

type repaymentRequest struct {
	Kind lending.RepayKind `json:"kind"`
}

type repaymentResponse struct {
	Amount string `json:"amount"`
	Status string `json:"status"`
}

func (s *Server) loanRepay(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req repaymentRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Kind != lending.RepayNext && req.Kind != lending.RepayPayoff {
		s.writeError(w, r, Validation(FieldError{Field: "kind", Message: "must be next or payoff"}))
		return
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	var reply workflows.RepayReply
	if err := s.update(r.Context(), loan, workflows.UpdateRepay, workflows.RepayRequest{Kind: req.Kind, Today: today}, &reply); err != nil {
		s.updateFailed(w, r, loan, err)
		return
	}
	writeJSON(w, http.StatusCreated, repaymentResponse{Amount: fmtMoney(reply.Amount), Status: reply.Status})
}

func statusBody(r workflows.StatusReply) map[string]string {
	return map[string]string{"status": string(r.Status)}
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
