// Package activities holds the loan workflow's side effects: PostgreSQL
// writes, custody bank calls and their ledger mirror. Every activity is
// idempotent: it may run more than once (Temporal retries after a timeout), so
// each derives its bank request number and history sequence from business
// identity passed in by the workflow, never from the clock or the run ID.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// Activities carries the dependencies; workflows name its methods through a nil pointer.
type Activities struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	bank bank.Client
	log  *slog.Logger
	// wall is true in production clock mode, where collection contact keeps
	// to the permitted hours of the platform time zone.
	wall bool
	now  func() time.Time
}

// New builds the activities. wallClock selects the production clock mode.
func New(pool *pgxpool.Pool, bankClient bank.Client, logger *slog.Logger, wallClock bool) *Activities {
	return &Activities{pool: pool, q: db.Queries(pool), bank: bankClient, log: logger, wall: wallClock, now: time.Now}
}

// classify is the one place that decides what a retry can fix. Domain refusals
// and missing rows are final (non-retryable, typed by their code); a bank
// refusal is final; everything else — connection loss, timeouts, bank 5xx —
// is retried by Temporal, which is safe because every step is idempotent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return err
	}
	if code := errs.Code(err); code != "" {
		return temporal.NewNonRetryableApplicationError(err.Error(), code, err)
	}
	if errors.Is(err, db.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), errs.NotFound, err)
	}
	if db.UniqueViolation(err) || db.CheckViolation(err) {
		// A unique or check violation will fail the same way on every retry.
		return temporal.NewNonRetryableApplicationError(err.Error(), errs.Conflict, err)
	}
	var be *bank.Error
	if errors.As(err, &be) && !be.Retryable {
		return temporal.NewNonRetryableApplicationError(err.Error(), "bank_"+be.Code, err)
	}
	return err
}

// inTx runs fn in one transaction.
func (a *Activities) inTx(ctx context.Context, fn func(q *dbq.Queries, tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error { return fn(db.Queries(tx), tx) })
}

// history writes one loan_history row; seq makes a retried write a no-op.
func history(ctx context.Context, q *dbq.Queries, loanID int64, seq int, status lending.Status, on time.Time, note string) error {
	return q.LoanHistoryInsert(ctx, dbq.LoanHistoryInsertParams{
		LoanID: loanID, Seq: int32(seq), Status: status, BusinessDate: on, Note: note,
	})
}

// RecordStatus moves the loan From → To (or only writes a note when they are
// equal) and records the history row.
func (a *Activities) RecordStatus(ctx context.Context, in StatusChange) error {
	return classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		if loan.Status != in.To {
			if !slices.Contains(in.From, loan.Status) {
				return errs.New(errs.InvalidState, "loan %d is %s, not %v", in.LoanID, loan.Status, in.From)
			}
			if _, err := q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: in.To, ID: in.LoanID, FromStatuses: lending.Strings(in.From...)}); err != nil {
				return err
			}
		}
		// A moving loan has work today, so a clock advance waits for it; a
		// closed loan has none, so the clock must not wait on it.
		next := &in.Today
		if in.To.Terminal() {
			next = nil
		}
		if noteOnly := len(in.From) == 1 && in.From[0] == in.To; !noteOnly || next == nil {
			if err := q.LoanSetNextEvent(ctx, dbq.LoanSetNextEventParams{ID: in.LoanID, NextEventOn: next}); err != nil {
				return err
			}
		}
		return history(ctx, q, in.LoanID, in.Seq, in.To, in.Today, in.Note)
	}))
}

// SetNextEvent publishes the next business date on which the loan has dated
// work; the sandbox clock's advance stops there and waits for the loan.
func (a *Activities) SetNextEvent(ctx context.Context, in NextEventInput) error {
	return classify(a.q.LoanSetNextEvent(ctx, dbq.LoanSetNextEventParams{ID: in.LoanID, NextEventOn: in.On}))
}

// bankResult turns a bank answer into done / refused / try again. A request
// still processing at the bank is retried under the same request number until
// its final result is known; the bank never does the work twice.
func bankResult(res bank.Result, err error) (ok bool, code string, _ error) {
	if err != nil {
		var be *bank.Error
		if errors.As(err, &be) && !be.Retryable {
			return false, be.Code, nil
		}
		return false, "", err
	}
	switch res.Status {
	case bank.StatusSucceeded:
		return true, "", nil
	case bank.StatusFailed:
		if res.Code == "" {
			res.Code = errs.Conflict
		}
		return false, res.Code, nil
	default:
		return false, "", fmt.Errorf("bank request %s is %s", res.RequestNo, res.Status)
	}
}
