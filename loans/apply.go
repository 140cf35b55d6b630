package loans

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/users"
	"github.com/lendflow/lendflow/workflows"
)

// Application is what a borrower applies for, its fields checked already
// (amount 1,000.00 to 200,000.00, 1 to 36 months, a repayment method, a
// purpose: the API's decoding names every one that is wrong at once).
type Application struct {
	Amount          decimal.Decimal
	TermMonths      int
	RepaymentMethod string
	Purpose         string
	MonthlyIncome   decimal.Decimal
	GuarantorID     *int64 // nil: no guarantor named
}

func (s *service) Apply(ctx context.Context, me users.User, a Application, key string) (Loan, error) {
	if me.Locked { // ops locked the user (docs/security.md "Risk controls"): no new loans either
		return Loan{}, errs.New(errs.AccountLocked, "the account is locked")
	}
	if me.CustodyAccountNo == nil {
		return Loan{}, errs.New(errs.NoCustodyAccount, "open a custody account before applying")
	}
	if a.GuarantorID != nil {
		// A guarantor is a party of its own role (docs/rules.md "Guarantor").
		if g, err := s.q.UserGet(ctx, *a.GuarantorID); err != nil || g.Role != lending.RoleGuarantor {
			return Loan{}, errs.New(errs.NotGuarantor, "user %d is not a registered guarantor", *a.GuarantorID)
		}
	}
	today, err := s.today(ctx)
	if err != nil {
		return Loan{}, err
	}
	// The client may hang up; the application goes on, so that a retry finds it.
	ctx = context.WithoutCancel(ctx)
	app := dbq.LoanInsertParams{
		BorrowerID: me.ID, GuarantorID: a.GuarantorID, Amount: a.Amount, TermMonths: int32(a.TermMonths),
		RepaymentMethod: a.RepaymentMethod, Purpose: strings.TrimSpace(a.Purpose), MonthlyIncome: a.MonthlyIncome,
		WorkflowID: fmt.Sprintf("pending-%d-%d", me.ID, time.Now().UnixNano()), AppliedOn: today,
		IdempotencyKey: idempotency.Key(key),
	}
	var loan dbq.Loan
	var repeat bool
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		// The borrower's lock: two applications at once cannot both pass the
		// principal cap, nor two under one key both insert.
		if err := q.UserLockForMoney(ctx, int32(me.ID)); err != nil {
			return err
		}
		var err error
		loan, repeat, err = idempotency.Made(app.IdempotencyKey, func(key *string) (dbq.Loan, error) {
			return q.LoanGetByKey(ctx, dbq.LoanGetByKeyParams{BorrowerID: me.ID, IdempotencyKey: key})
		}, func(l dbq.Loan) bool { return sameApplication(l, app) }, func(l dbq.Loan) string {
			return fmt.Sprintf("loan %d, another application", l.ID)
		})
		if repeat || err != nil {
			return err
		}
		if err := withinCap(ctx, q, me.ID, a.Amount); err != nil {
			return err
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
	if err != nil {
		return loanFrom(loan), err
	}
	loan, err = s.start(ctx, loan, today, repeat, key != "")
	return loanFrom(loan), err
}

// sameApplication: the loan a key made is the application sent again.
func sameApplication(l dbq.Loan, a dbq.LoanInsertParams) bool {
	sameGuarantor := (l.GuarantorID == nil) == (a.GuarantorID == nil) && (l.GuarantorID == nil || *l.GuarantorID == *a.GuarantorID)
	return l.Amount.Equal(a.Amount) && l.TermMonths == a.TermMonths && l.RepaymentMethod == a.RepaymentMethod &&
		l.Purpose == a.Purpose && l.MonthlyIncome.Equal(a.MonthlyIncome) && sameGuarantor
}

// start starts the loan's workflow, once: its ID derives from the loan and a
// second start is refused (REJECT_DUPLICATE), which is success here. A start
// that fails leaves no workflow to move the loan, so the loan is cancelled
// and the answer is unavailable. Under an Idempotency-Key the retry finds
// that loan (repeat): one cancelled here, whose workflow never started, is
// opened again and started; one the API crashed before starting, still
// submitted, is started now. So a key gives at most one loan and one
// workflow, and a retry can still get it going.
func (s *service) start(ctx context.Context, loan dbq.Loan, today time.Time, repeat, keyed bool) (dbq.Loan, error) {
	// Temporal's answers are waited for as an update's are: at most the update wait.
	tctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	if repeat {
		switch loan.Status {
		case lending.StatusSubmitted:
		case lending.StatusCancelled:
			_, err := s.temporal.DescribeWorkflowExecution(tctx, loan.WorkflowID, "")
			var nf *serviceerror.NotFound
			if !errors.As(err, &nf) {
				return loan, err // started (and cancelled by its borrower since), or Temporal did not say
			}
			reopened, err := s.q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: lending.StatusSubmitted, ID: loan.ID, FromStatuses: lending.Strings(lending.StatusCancelled)})
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
	_, err := s.temporal.ExecuteWorkflow(tctx, client.StartWorkflowOptions{
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
		dctx, cancel := context.WithTimeout(ctx, s.wait)
		defer cancel()
		if _, derr := s.temporal.DescribeWorkflowExecution(dctx, loan.WorkflowID, ""); derr == nil {
			err = nil
		}
	}
	if err != nil && !errors.As(err, &started) {
		// No workflow means nobody would ever move this loan: close it now.
		logging.From(ctx, s.log).Error("start loan workflow", logging.LoanID, loan.ID, logging.WorkflowID, loan.WorkflowID, "error", err)
		_, _ = s.q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: lending.StatusCancelled, ID: loan.ID, FromStatuses: lending.Strings(lending.StatusSubmitted)})
		hint := "try again"
		if keyed {
			hint = "send it again with the same Idempotency-Key"
		}
		return loan, errs.New(errs.Unavailable, "the loan could not be started; %s", hint)
	}
	return loan, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
