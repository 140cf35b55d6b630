package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/lending"
)

// The business clock, as one loan hears it (docs/workflow.md "The business
// clock"). This file is the whole mechanism:
//
//   - A date reaches the loan in a message: the clock's advance-clock update,
//     or a person's request (an ops decision, a repayment, a cancel) or the
//     listing-full signal, each carrying the business date it was made on.
//     Every one goes through hear, the only place Today moves, and only
//     forward.
//   - The loop in run acts on what is due and then waits (wait, below). Just
//     before it blocks, with nothing left to do for Today, it marks Today
//     handled; the moment it wakes to act, it marks Today unhandled.
//   - The advance-clock update hears its date and returns once the loan has
//     handled it, with the loan's next dated step: the clock stores that as
//     the loan's next_event_on and stops there next (clock.Advance). An
//     activity that creates a dated step no message would reveal (a listing's
//     expiry, a new schedule's first due date, a declined write-off's next
//     asking) publishes it in its own transaction. Both carry the step
//     number, so a later step's publication always wins.
//
// Nothing else moves the date or marks it handled: Continue-As-New carries
// Clock in the state and needs no bookkeeping of its own, because the next
// run's first wait marks the day handled as any wait does.
type Clock struct {
	Today time.Time // the latest business date heard
	// HandledThrough: every step due on or before it is done and the loop is
	// waiting. Before Today while the loan is acting.
	HandledThrough time.Time
}

// hear moves the loan's business date forward to d (never back).
func (w *loan) hear(d time.Time) {
	if d.After(w.S.Clock.Today) {
		w.S.Clock.Today = d
	}
}

// busy marks Today not yet handled: a clock update for it waits until the
// loan is back in a wait, so its answer reflects the step now being taken.
func (w *loan) busy() { w.S.Clock.HandledThrough = w.S.Clock.Today.AddDate(0, 0, -1) }

// handled reports whether the loan is waiting with every step through d done.
func (w *loan) handled(d time.Time) bool { return !w.S.Clock.HandledThrough.Before(d) }

// wake is what ends a wait.
type wake struct {
	req     *request // a person's request
	reached bool     // the business date reached the awaited date
	full    bool     // the listing-full signal
	cont    bool     // idle with a long history: continue as new now
}

// listingFull: the listing-full signal came while the loan is listed. The
// signal may come again later (the bid path resends it when its first try's
// answer was lost), and is then no news: the wait must not wake for it, or it
// would spin without yielding.
func (w *loan) listingFull() bool { return w.full && w.S.Status == lending.StatusListed }

// wait blocks until a request of one of kinds arrives, the listing fills
// (when listening for it), or the business date reaches due (nil: nothing
// dated to wait for). Requests come first: a repayment by hand on a due date
// is taken before that date's auto-debit. Each is judged again as it is
// taken (take), so one the loan no longer allows is refused, not carried out. Where the loan may continue as new
// (mayContinue) it also returns once the history is long, the loan is idle and
// no update handler is running: the only moment a run may continue as new
// without losing a message.
func (w *loan) wait(ctx workflow.Context, due *time.Time, kinds ...string) (wake, error) {
	for {
		if r := w.take(kinds); r != nil {
			w.busy()
			return wake{req: r}, nil
		}
		if w.listingFull() {
			w.full = false
			w.busy()
			return wake{full: true}, nil
		}
		if due != nil && !w.S.Clock.Today.Before(*due) {
			w.busy()
			return wake{reached: true}, nil
		}
		w.S.Clock.HandledThrough = w.S.Clock.Today
		idle := func() bool { return w.mayContinue && historyLong(ctx) && workflow.AllHandlersFinished(ctx) }
		if idle() {
			return wake{cont: true}, nil
		}
		if err := workflow.Await(ctx, func() bool {
			return w.S.Clock.Today.After(w.S.Clock.HandledThrough) || w.listingFull() || w.has(kinds) || idle()
		}); err != nil {
			return wake{}, err
		}
	}
}
