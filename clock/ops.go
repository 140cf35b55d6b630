package clock

import (
	"context"
	"errors"
	"time"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
)

// Ops advance a sandbox clock by hand (docs/api.md "Sandbox clock"); the
// console does it in the background and shows its progress, from any API
// replica (docs/replicas.md): its record is a row in PostgreSQL
// (console_clock_advance), which carries the replica running it, so an
// advance whose replica died is shown stopped, and the next may start.

// CheckAdvance refuses an advance to `to` the clock must not make: any clock
// but a sandbox one (invalid_state), or a date before the business date
// (validation_failed, field to: the clock never goes back). It answers the
// business date.
func (c *Clock) CheckAdvance(ctx context.Context, to time.Time) (time.Time, error) {
	from, mode, err := c.Today(ctx)
	if err != nil {
		return from, err
	}
	if mode != Sandbox {
		return from, errs.New(errs.InvalidState, "the clock is in %s mode; only a sandbox clock is advanced by hand", mode)
	}
	if to.Before(from) {
		return from, errs.Invalid("to", "must not be before the business date; the clock never goes back")
	}
	return from, nil
}

// AdvanceBy is ops user opsID's advance of a sandbox clock to `to`: refused
// as CheckAdvance refuses; answered once every loan has handled every event
// up to `to` (Advance), and then recorded in the audit log. It answers the
// business date and mode then.
func (c *Clock) AdvanceBy(ctx context.Context, opsID int64, to time.Time) (time.Time, string, error) {
	from, err := c.CheckAdvance(ctx, to)
	if err != nil {
		return from, "", err
	}
	if err := c.Advance(ctx, to); err != nil {
		return from, "", err
	}
	// The advance is done whatever becomes of its record; one that fails is
	// logged loudly, with everything it would have said.
	e := audit.Entry{OpsUserID: opsID, Action: audit.ClockAdvance, Target: audit.Clock(to), Note: "from " + from.Format(time.DateOnly)}
	if _, err := audit.Record(context.WithoutCancel(ctx), c.q, e); err != nil {
		logging.From(ctx, c.log).Error("audit record lost", "ops_user_id", opsID, "action", e.Action, "target", e.Target, "note", e.Note, "error", err)
	}
	return c.Today(ctx)
}

// Run is one advance the console started.
type Run struct {
	N                 int64 // which advance, so one taken over cannot finish its successor
	From, To, Started time.Time
	Running           bool
	// Failure is why it stopped, for the page; "" done or running.
	Failure string
}

// Orphaned is the failure of an advance whose process died.
const Orphaned = "the process running it stopped before it finished; advance again"

// StartRun records an advance from..to as running on replica (nil: a
// process in no fleet, whose run counts as running for at most maxRun),
// unless one is running (false).
func (c *Clock) StartRun(ctx context.Context, from, to time.Time, replica *int64, maxRun time.Duration) (Run, bool, error) {
	row, err := c.q.ConsoleAdvanceStart(ctx, dbq.ConsoleAdvanceStartParams{
		FromDate: from, ToDate: to, ReplicaID: replica, MaxSeconds: maxRun.Seconds(),
	})
	if errors.Is(err, db.ErrNotFound) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	return Run{N: row.Run, From: row.FromDate, To: row.ToDate, Started: row.StartedAt, Running: true}, true, nil
}

// FinishRun records how run ended: failure nil is done; a failure is what
// the page may show of why it stopped.
func (c *Clock) FinishRun(ctx context.Context, run Run, failure *string) error {
	return c.q.ConsoleAdvanceFinish(context.WithoutCancel(ctx), dbq.ConsoleAdvanceFinishParams{Error: failure, Run: run.N})
}

// LastRun is the last advance the console started, on any replica (false:
// none ever); a run still recorded running after maxRun is stopped.
func (c *Clock) LastRun(ctx context.Context, maxRun time.Duration) (Run, bool, error) {
	row, err := c.q.ConsoleAdvanceGet(ctx, maxRun.Seconds())
	if errors.Is(err, db.ErrNotFound) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	run := Run{N: row.Run, From: row.FromDate, To: row.ToDate, Started: row.StartedAt, Running: row.Running}
	switch {
	case row.Error != nil:
		run.Failure = *row.Error
	case row.Orphaned:
		run.Failure = Orphaned
	}
	return run, true, nil
}

// Progress is where an advance stands.
type Progress struct {
	Run
	// Today is the business date it has reached.
	Today time.Time
	// LoansDue is how many loans still have events due on or before its
	// target: what it has left to hand out and wait for.
	LoansDue int64
	// Percent is the days it has walked of its way: 100 once done, at most
	// 99 before.
	Percent int
}

// Progress is where run stands as of today.
func (c *Clock) Progress(ctx context.Context, run Run, today time.Time) (Progress, error) {
	p := Progress{Run: run, Today: today}
	due, err := c.q.LoanCountEventsDue(ctx, &run.To)
	if err != nil {
		return p, err
	}
	p.LoansDue = due
	total, done := lending.Days(run.From, run.To), lending.Days(run.From, today)
	switch {
	case !run.Running && run.Failure == "":
		p.Percent = 100
	case total > 0:
		p.Percent = min(done*100/total, 99)
	}
	return p, nil
}

// LastProgress is where the last advance the console started stands now
// (false: none was ever started).
func (c *Clock) LastProgress(ctx context.Context, maxRun time.Duration) (Progress, bool, error) {
	run, ok, err := c.LastRun(ctx, maxRun)
	if !ok || err != nil {
		return Progress{}, ok, err
	}
	today, _, err := c.Today(ctx)
	if err != nil {
		return Progress{}, true, err
	}
	p, err := c.Progress(ctx, run, today)
	return p, true, err
}
