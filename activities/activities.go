// Package activities holds the loan workflow's side effects: PostgreSQL
// writes, custody bank calls and their ledger mirror. Every activity is
// idempotent: it may run more than once (Temporal retries after a timeout), so
// each derives its bank request number and history sequence from business
// identity passed in by the workflow, never from the clock or the run ID.
//
// An activity does the whole of one step: the status change, its history
// rows, the money and the loan's next dated step are written together, in one
// transaction where the bank is not involved, so the workflow pays one
// Temporal action per step (docs/workflow.md "Cost").
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
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// Activities carries the dependencies; the worker registers its methods
// under the names in workflows/names.go.
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

// heartbeat tells Temporal the activity is alive every second until the
// returned stop is called. Activities run with a short heartbeat timeout, so
// one that died with its worker is retried on another within seconds, not
// after its whole start-to-close timeout (a bank call's retries can take a
// minute).
func heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	// The first heartbeat goes after a second, not at once: the SDK sends
	// the first one straight to the server, which writes it into the
	// workflow's state, and most activities are done well within the second
	// (a month's auto-debit over a fleet paid one such write per loan). The
	// heartbeat timeout counts from the start, so a second is still in time.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			activity.RecordHeartbeat(ctx)
		}
	}()
	return func() { close(done) }
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

// rows writes the history rows of one step: seq, seq+1, … A step writes at
// most SeqBlock rows.
type rows struct {
	q      *dbq.Queries
	loanID int64
	seq    int
	n      int
	on     time.Time
}

func newRows(q *dbq.Queries, loanID int64, seq int, on time.Time) *rows {
	return &rows{q: q, loanID: loanID, seq: seq, on: on}
}

func (r *rows) add(ctx context.Context, status lending.Status, format string, args ...any) error {
	if r.n >= SeqBlock {
		return fmt.Errorf("loan %d step %d: more than %d history rows", r.loanID, r.seq, SeqBlock)
	}
	r.n++
	return history(ctx, r.q, r.loanID, r.seq+r.n-1, status, r.on, fmt.Sprintf(format, args...))
}

// move changes the loan's status from one of from to to and writes its history
// row. A loan already in to (an earlier attempt of the same step committed) is
// left as it is; the row is written once either way.
func (r *rows) move(ctx context.Context, from []lending.Status, to lending.Status, format string, args ...any) error {
	loan, err := r.q.LoanGetForUpdate(ctx, r.loanID)
	if err != nil {
		return err
	}
	if loan.Status != to {
		if !slices.Contains(from, loan.Status) {
			return errs.New(errs.InvalidState, "loan %d is %s, not %v", r.loanID, loan.Status, from)
		}
		if _, err := r.q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: to, ID: r.loanID, FromStatuses: lending.Strings(from...)}); err != nil {
			return err
		}
	}
	return r.add(ctx, to, format, args...)
}

// publish writes the loan's next dated step (nil: none) as of step seq; the
// clock's advance stops there. A closed loan publishes nil.
func publish(ctx context.Context, q *dbq.Queries, loanID int64, seq int, next *time.Time) error {
	return q.LoanPublishNextEvent(ctx, dbq.LoanPublishNextEventParams{ID: loanID, NextEventOn: next, Seq: int32(seq)})
}

// Record writes a history row, and moves the loan From → To when they differ
// (rejected or cancelled before listing, a declined write-off, a failed batch).
// A terminal status clears the loan's next dated step; Next, when set,
// publishes the one the row makes.
func (a *Activities) Record(ctx context.Context, in RecordInput) error {
	return classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		r := newRows(q, in.LoanID, in.Seq, in.Today)
		var err error
		if len(in.From) == 1 && in.From[0] == in.To {
			err = r.add(ctx, in.To, "%s", in.Note)
		} else {
			err = r.move(ctx, in.From, in.To, "%s", in.Note)
		}
		switch {
		case err != nil:
			return err
		case in.To.Terminal():
			return publish(ctx, q, in.LoanID, in.Seq, nil)
		case in.Next != nil:
			return publish(ctx, q, in.LoanID, in.Seq, in.Next)
		}
		return nil
	}))
}

func loanRef(id int64) string { return fmt.Sprintf("loan:%d", id) }
func userRef(id int64) string { return fmt.Sprintf("user:%d", id) }

func dateOnly(t time.Time) string { return t.Format(time.DateOnly) }
