// Package clock is the platform's business date (docs/api.md "Sandbox clock",
// docs/workflow.md "The business clock").
//
// Loan workflows never read a wall clock for business dates. Advance walks
// the date forward stop by stop — to the earliest next_event_on any loan has,
// then the next — and at each stop sends the date to every loan due that day
// (the advance-clock update) and waits until each has handled it. Each loan
// answers with its next dated step, which becomes its next_event_on. In
// sandbox mode ops call Advance; in wall mode RunWall calls it when the
// Asia/Shanghai calendar day turns. The workflow code is the same in both.
package clock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// Modes.
const (
	Wall    = "wall"
	Sandbox = "sandbox"
)

// BankClock moves the custody bank simulator's business date with ours, so its
// reconciliation files are dated as the platform's movements are.
type BankClock interface {
	SetClock(ctx context.Context, today time.Time) error
}

// Clock reads and advances the business date.
type Clock struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	temporal client.Client
	bank     BankClock // nil: no bank clock to move
	log      *slog.Logger
	mu       sync.Mutex
	// parallel is how many loans are told of a new date at once.
	parallel int
}

// DefaultParallel is how many loans an advance tells at once unless
// CLOCK_PARALLEL says otherwise. Each told loan is one update waiting on the
// Temporal frontend while the loan takes its step (an activity or two), so
// the cap is what keeps the worker's task queues full: with 8 the worker sat
// idle between waves and a month over 1,000 loans took 1.7× the dev server's
// ideal (BENCHMARKS.md "Fleet and the month's clock"). A waiting update costs
// the caller a goroutine and a stream, not a connection of its own.
const DefaultParallel = 256

// New builds a clock.
func New(pool *pgxpool.Pool, tc client.Client, bank BankClock, log *slog.Logger) *Clock {
	return &Clock{pool: pool, q: db.Queries(pool), temporal: tc, bank: bank, log: log, parallel: DefaultParallel}
}

// WithParallel sets how many loans are told of a date at once (n < 1 keeps
// the default).
func (c *Clock) WithParallel(n int) *Clock {
	if n >= 1 {
		c.parallel = n
	}
	return c
}

// Init stores the mode and, on first start only, the starting date.
func (c *Clock) Init(ctx context.Context, mode string, start time.Time) error {
	if mode != Wall && mode != Sandbox {
		return fmt.Errorf("clock mode %q: want wall or sandbox", mode)
	}
	if mode == Wall {
		start = lending.Date(time.Now())
	}
	_, err := c.q.ClockInit(ctx, dbq.ClockInitParams{Mode: mode, Today: start})
	return err
}

// Date is the business date alone.
func (c *Clock) Date(ctx context.Context) (time.Time, error) {
	d, _, err := c.Today(ctx)
	return d, err
}

// Today is the business date and the mode.
func (c *Clock) Today(ctx context.Context) (time.Time, string, error) {
	row, err := c.q.ClockGet(ctx)
	if err != nil {
		return time.Time{}, "", err
	}
	return row.Today, row.Mode, nil
}

// Advance moves the business date to `to` and returns once every loan has
// handled every event due up to it. Advances are serialized; a date in the past
// is refused.
func (c *Clock) Advance(ctx context.Context, to time.Time) error {
	_, err := c.advance(ctx, to, false)
	return err
}

// advance is Advance; onlyIfDue skips it, answering false, unless there is
// something to do as read under the advance lock: `to` after the business
// date, or loans still due on or before it.
func (c *Clock) advance(ctx context.Context, to time.Time, onlyIfDue bool) (moved bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	defer func() {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		if moved || err != nil {
			advanceSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
		}
	}()
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	// Two replicas (the API's in sandbox mode, the workers' on the wall
	// clock) must not advance at once.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7431)`); err != nil {
		return false, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7431)`) //nolint:errcheck

	today, _, err := c.Today(ctx)
	if err != nil {
		return false, err
	}
	if onlyIfDue && !to.After(today) {
		if due, err := c.q.LoanCountEventsDue(ctx, &today); err != nil || due == 0 {
			return false, err
		}
	}
	if to.Before(today) {
		return false, errs.Invalid("to", "the clock is at %s; it never goes back", today.Format(time.DateOnly))
	}
	return true, c.walk(ctx, today, to)
}

// walk takes the date from today to `to`, stop by stop (see Advance).
func (c *Clock) walk(ctx context.Context, today, to time.Time) error {
	for stops := 0; ; stops++ {
		if stops > 100000 {
			return errors.New("clock: too many stops; a loan is not moving its next event forward")
		}
		stop := to
		next, err := c.q.LoanMinNextEvent(ctx)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if next != nil && next.Before(stop) {
			stop = *next
			if stop.Before(today) {
				stop = today
			}
		}
		if err := c.setToday(ctx, stop); err != nil {
			return err
		}
		today = stop
		due, err := c.q.LoanListDueEvents(ctx, &stop)
		if err != nil {
			return err
		}
		stopsTotal.Inc()
		began := time.Now()
		if err := c.tell(ctx, due, stop); err != nil {
			return err
		}
		c.log.Info("clock: stop handled", "date", stop.Format(time.DateOnly), "loans", len(due), "duration_ms", time.Since(began).Milliseconds())
		if stop.Equal(to) {
			left, err := c.q.LoanListDueEvents(ctx, &to)
			if err != nil {
				return err
			}
			if len(left) == 0 {
				return nil
			}
		}
	}
}

func (c *Clock) setToday(ctx context.Context, d time.Time) error {
	if err := c.q.ClockSet(ctx, d); err != nil {
		return err
	}
	// Coupons past their last day are expired as the date reaches the next
	// (docs/coupons.md), with their events in one transaction; a stop that
	// ends early is caught by the next stop.
	if err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		_, err := coupons.Expire(ctx, db.Queries(tx), d)
		return err
	}); err != nil {
		return err
	}
	if c.bank != nil {
		return c.bank.SetClock(ctx, d)
	}
	return nil
}

// tell sends the date to each due loan and waits for each to handle it.
func (c *Clock) tell(ctx context.Context, loans []dbq.LoanListDueEventsRow, d time.Time) error {
	sem := make(chan struct{}, c.parallel)
	errc := make(chan error, len(loans))
	var wg sync.WaitGroup
	for _, l := range loans {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			inFlight.Inc()
			defer inFlight.Dec()
			start := time.Now()
			outcome, err := c.tellOne(ctx, l.ID, l.WorkflowID, d)
			tellSeconds.Observe(time.Since(start).Seconds())
			if err != nil {
				outcome = "error"
			}
			loansTold.WithLabelValues(outcome).Inc()
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	var all []error
	for err := range errc {
		if err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// tellOne delivers the date to one loan and stores its answer, the loan's
// next dated step, as its next_event_on (guarded by the loan's step number,
// so an answer cannot overwrite what a later step published). An update can
// miss its run: the run may continue as new or close just as the update
// arrives. So on any error the loan's own record decides: if it has moved
// past d it has handled d; if it has closed there is nothing to wait for;
// otherwise the update is sent again, to whichever run is current. The
// outcome names how it ended for lendflow_clock_loans_told_total: ok (answered)
// or settled (found past d, or closed); the caller counts an error as error.
func (c *Clock) tellOne(ctx context.Context, loanID int64, workflowID string, d time.Time) (outcome string, err error) {
	for attempt := 1; attempt <= 30; attempt++ {
		var h client.WorkflowUpdateHandle
		h, err = c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflowID,
			// One ID per date: a resend to the same run is answered, not run twice.
			UpdateID:     "clock-" + d.Format(time.DateOnly),
			UpdateName:   workflows.UpdateAdvanceClock,
			Args:         []any{workflows.ClockAdvance{Today: d}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			var reply workflows.ClockReply
			if err = h.Get(ctx, &reply); err == nil {
				return "ok", c.q.LoanPublishNextEvent(ctx, dbq.LoanPublishNextEventParams{ID: loanID, NextEventOn: reply.Next, Seq: int32(reply.Seq)})
			}
		}
		loan, qerr := c.q.LoanGet(ctx, loanID)
		if qerr != nil {
			return "", qerr
		}
		if loan.NextEventOn == nil || loan.NextEventOn.After(d) {
			return "settled", nil
		}
		if loan.Status.Terminal() {
			c.log.Warn("clock: closed loan had a dated event; clearing it", "loan", loanID)
			return "settled", c.q.LoanPublishNextEvent(ctx, dbq.LoanPublishNextEventParams{ID: loanID, Seq: loan.NextEventSeq})
		}
		c.log.Info("clock: update not delivered; sending again", "loan", loanID, "attempt", attempt, "error", err)
		resends.Inc()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Duration(min(attempt, 10)) * 100 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("loan %d at %s: %w", loanID, d.Format(time.DateOnly), err)
}

// RunWall keeps the business date on the Asia/Shanghai calendar day in wall
// mode, advancing (and so running every loan's due events) when the day turns.
// Every worker runs it; the day turns once (TurnWall).
func (c *Clock) RunWall(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.TurnWall(ctx, time.Now()); err != nil {
			c.log.Error("clock: wall advance", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TurnWall advances a wall clock to now's Asia/Shanghai date if it is behind
// it, or finishes the day if loans are still due on or before it (the
// worker that was turning it died mid-way), and answers whether this call
// did. Workers racing at midnight each ask; it is judged under the advance
// lock, so the first turns the day and every other finds it turned: each
// loan hears each date once.
func (c *Clock) TurnWall(ctx context.Context, now time.Time) (bool, error) {
	today, mode, err := c.Today(ctx)
	if err != nil || mode != Wall {
		return false, err
	}
	day := lending.Date(now)
	if !day.After(today) {
		due, err := c.q.LoanCountEventsDue(ctx, &today)
		if err != nil || due == 0 {
			return false, err
		}
		day = today
	}
	return c.advance(ctx, day, true)
}
