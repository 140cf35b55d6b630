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

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/recovery"
	"github.com/lendflow/lendflow/users"
	"github.com/lendflow/lendflow/workflows"
)

// Recovery is money recovered after a write-off, and how it was
// distributed.
type Recovery struct {
	ID     int64
	Amount decimal.Decimal
	// Processing: its workflow has not answered within the update wait; it
	// goes on, and the loan shows how it ended.
	Processing  bool
	Distributed []Distributed
}

// Distributed is one holder's part of a recovery.
type Distributed struct {
	Holder string // investor | guarantor | reserve
	UserID int64  // 0: the risk reserve
	Amount decimal.Decimal
}

// Recover: debited from the borrower's available balance and distributed to
// the claim holders pro rata to what each lost, by a workflow of its own
// (workflows.RecoveryWorkflow). The recovery row carries ops' Idempotency-Key,
// written with its audit entry, so a retry answers that recovery and never
// makes a second.
func (s *service) Recover(ctx context.Context, ops users.User, loan Loan, amount decimal.Decimal, note, key string) (Recovery, error) {
	if loan.Status != lending.StatusWrittenOff {
		return Recovery{}, errs.New(errs.InvalidState, "the loan is %s: recoveries follow a write-off", loan.Status)
	}
	today, err := s.today(ctx)
	if err != nil {
		return Recovery{}, err
	}
	note = strings.TrimSpace(note)
	ctx = context.WithoutCancel(ctx) // the recovery goes on if the client hangs up
	keyp := idempotency.Key(key)
	var rec dbq.Recovery
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var repeat bool
		var err error
		rec, repeat, err = idempotency.Made(keyp, func(key *string) (dbq.Recovery, error) {
			return q.RecoveryGetByKey(ctx, dbq.RecoveryGetByKeyParams{OpsUserID: ops.ID, IdempotencyKey: key})
		}, func(r dbq.Recovery) bool { return r.Amount.Equal(amount) && r.LoanID == loan.ID }, func(r dbq.Recovery) string {
			return fmt.Sprintf("recovery %d", r.ID)
		})
		if repeat || err != nil {
			return err
		}
		if rec, err = q.RecoveryInsert(ctx, dbq.RecoveryInsertParams{LoanID: loan.ID, Amount: amount, Note: note,
			OpsUserID: ops.ID, BusinessDate: today, IdempotencyKey: keyp}); err != nil {
			return err
		}
		// The holders' shares are reserved before anything reaches the bank,
		// under a lock on the loan's losses: recoveries that meet are admitted
		// one at a time, and one beyond what is owed is refused here.
		if _, err := recovery.Reserve(ctx, q, rec); err != nil {
			return err
		}
		if err := borrowerCovers(ctx, tx, loan.BorrowerID, amount); err != nil {
			return err
		}
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: ops.ID, Action: audit.Recovery, Target: audit.Loan(loan.ID), Note: amount.StringFixed(2) + ": " + note})
		return err
	})
	if err != nil {
		return Recovery{}, err
	}
	res, err := s.runRecovery(ctx, rec)
	switch {
	case errors.Is(err, ErrStillRunning):
		return Recovery{ID: rec.ID, Amount: rec.Amount, Processing: true}, nil
	case err != nil:
		return Recovery{}, err
	case !res.Succeeded && res.Code == errs.InsufficientBalance:
		// The balance moved between the check and the bank's debit.
		sum, err := ledger.AccountSummary(ctx, s.pool, loan.BorrowerID)
		if err != nil {
			return Recovery{}, err
		}
		return Recovery{}, borrowerShort(sum.Available)
	case !res.Succeeded:
		return Recovery{}, errs.New(res.Code, "%s", res.Detail)
	}
	out := Recovery{ID: rec.ID, Amount: res.Amount}
	for _, d := range res.Distributed {
		out.Distributed = append(out.Distributed, Distributed(d))
	}
	return out, nil
}

// borrowerCovers refuses a recovery the borrower's available balance cannot
// cover, before anything reaches the bank.
func borrowerCovers(ctx context.Context, tx pgx.Tx, borrowerID int64, amount decimal.Decimal) error {
	sum, err := ledger.AccountSummary(ctx, tx, borrowerID)
	if err != nil {
		return err
	}
	if sum.Available.LessThan(amount) {
		return borrowerShort(sum.Available)
	}
	return nil
}

// borrowerShort refuses a recovery the borrower's available balance does not
// cover, with that balance: the figure ops need is the borrower's, not their
// own, which the API would otherwise add.
func borrowerShort(available decimal.Decimal) error {
	return errs.New(errs.InsufficientBalance, "the borrower's available balance does not cover the recovery").With("available", available)
}

// runRecovery starts the recovery's workflow, once (its ID derives from the
// recovery), and waits at most the update wait for its answer.
func (s *service) runRecovery(ctx context.Context, rec dbq.Recovery) (activities.RecoverResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	id, _, err := s.startRecovery(ctx, rec)
	if err != nil {
		if ctx.Err() != nil {
			return activities.RecoverResult{}, ErrStillRunning
		}
		return activities.RecoverResult{}, err
	}
	var res activities.RecoverResult
	if err := s.temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		switch {
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
			return res, ErrStillRunning
		case refusal(err) != nil:
			// A refusal the recovery's step ended with is answered as the
			// refusal it is, never as a 500.
			return res, refusal(err)
		}
		return res, err
	}
	return res, nil
}

// startRecovery starts rec's workflow unless it runs or ran already
// (started false), and answers its ID.
func (s *service) startRecovery(ctx context.Context, rec dbq.Recovery) (id string, started bool, err error) {
	id = workflows.RecoveryWorkflowID(rec.LoanID, rec.ID)
	_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary: fmt.Sprintf("recovery %d on loan %d: %s", rec.ID, rec.LoanID, rec.Amount.StringFixed(2)),
	}, workflows.RecoveryWorkflowName, workflows.RecoveryInput{LoanID: rec.LoanID, RecoveryID: rec.ID})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return id, false, nil
	}
	return id, err == nil, err
}

// RecoveryStartAfter is how long a recovery may stay processing before the
// worker starts its workflow (ResumeRecoveries): far beyond the moment
// between the API's recording it and starting it, so the sweep finds only
// those whose API died in between, and those still running (left alone).
const RecoveryStartAfter = time.Minute

// resumeBatch bounds the recoveries one ResumeRecoveries starts.
const resumeBatch = 100

func (s *service) ResumeRecoveries(ctx context.Context) (int, error) {
	recs, err := s.q.RecoveryListProcessing(ctx, dbq.RecoveryListProcessingParams{OlderSeconds: int32(RecoveryStartAfter / time.Second), Lim: resumeBatch})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, rec := range recs {
		tctx, cancel := context.WithTimeout(ctx, s.wait)
		_, started, err := s.startRecovery(tctx, rec)
		cancel()
		if err != nil {
			logging.From(ctx, s.log).Error("recovery's workflow not started", logging.LoanID, rec.LoanID, "recovery", rec.ID, "error", err)
			errs = append(errs, err)
			continue
		}
		if started {
			n++
		}
	}
	return n, errors.Join(errs...)
}
