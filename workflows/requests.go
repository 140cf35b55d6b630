package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// request is an update waiting for the main loop, which alone changes the loan.
type request struct {
	kind     string
	decision Decision
	repay    RepayRequest
	transfer TransferRequest
	// allowed judges the request against the loan as it stands: at admission,
	// and again whenever the loan has moved while it waits (docs/workflow.md
	// "Requests"). Each names the status in which the phase that takes the
	// request waits, so a request the loan still allows is one its current
	// phase will take, and one the loan has moved past is refused.
	allowed func() error
	taken   bool // the main loop is carrying it out
	done    bool
	reply   any
	err     error
}

// Answered is one answered request, remembered across Continue-As-New.
type Answered struct {
	ID     string
	Status lending.Status // a StatusReply
	Repay  *RepayReply
	// Transfer answers a transfer request (an offer, a purchase, a cancel).
	Transfer *TransferReply
	Code     string // a refusal's code and message
	Msg      string
}

// answeredKept is how many answers a loan remembers: far more than the
// requests a client could still be retrying.
const answeredKept = 32

// The loan's row moves in an activity's own transaction, a moment before the
// workflow hears that the activity finished: a person who reads the new
// status (a loan in full_review, a repaying loan) and acts on it at once
// would be refused by the workflow's older state. So while an activity is in
// flight, a request the loan's state refuses is admitted, and its handler
// waits for the step to land (settle) before it judges the request again.
// A request the state allows is judged at once, as before: recorded
// histories replay unchanged, since a refused request never entered them.

// admit is a request's validator after its own field checks.
func (w *loan) admit(ctx workflow.Context, allowed func() error) error {
	if w.wasAnswered(ctx) {
		return nil
	}
	if err := allowed(); err != nil && w.acting == 0 {
		return err
	}
	return nil
}

// settle, first in an admitted request's handler, waits until the loan's
// state allows the request or no activity is in flight, and then judges it.
func (w *loan) settle(ctx workflow.Context, allowed func() error) error {
	if w.wasAnswered(ctx) {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return w.acting == 0 || allowed() == nil }); err != nil {
		return err
	}
	return allowed()
}

// once answers a request sent again under the update ID of one already
// answered (in this run Temporal itself dedupes; across Continue-As-New it
// forgets), and otherwise queues it for the main loop and remembers the answer.
func (w *loan) once(ctx workflow.Context, r *request) (any, error) {
	id := updateID(ctx)
	if a, ok := w.answered(id); ok {
		if a.Code != "" {
			return nil, refuse(a.Code, a.Msg)
		}
		if a.Repay != nil {
			return *a.Repay, nil
		}
		if a.Transfer != nil {
			return *a.Transfer, nil
		}
		return StatusReply{Status: a.Status}, nil
	}
	reply, err := w.submit(ctx, r)
	a := Answered{ID: id}
	var ae *temporal.ApplicationError
	switch {
	case err != nil && !errors.As(err, &ae):
		return reply, err // not an answer: nothing to remember
	case err != nil:
		a.Code, a.Msg = ae.Type(), ae.Message()
	default:
		switch v := reply.(type) {
		case RepayReply:
			a.Repay = &v
		case TransferReply:
			a.Transfer = &v
		case StatusReply:
			a.Status = v.Status
		}
	}
	w.S.Answered = append(w.S.Answered, a)
	if len(w.S.Answered) > answeredKept {
		w.S.Answered = w.S.Answered[len(w.S.Answered)-answeredKept:]
	}
	return reply, err
}

func (w *loan) answered(id string) (Answered, bool) {
	i := slices.IndexFunc(w.S.Answered, func(a Answered) bool { return a.ID == id })
	if i < 0 {
		return Answered{}, false
	}
	return w.S.Answered[i], true
}

// wasAnswered: a request answered before passes its validator, whatever the
// loan's state now, so that it is answered as it was the first time.
func (w *loan) wasAnswered(ctx workflow.Context) bool {
	_, ok := w.answered(updateID(ctx))
	return ok
}

func updateID(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}

// submit queues r for the main loop and waits for its answer. A request the
// loan stops allowing while it waits (the loan moved on: full, disbursing,
// cured, closed) is answered with that refusal at once, and leaves the inbox:
// nothing waits there across a phase, so every update finishes and the loan
// can continue as new.
func (w *loan) submit(ctx workflow.Context, r *request) (any, error) {
	w.inbox = append(w.inbox, r)
	if err := workflow.Await(ctx, func() bool { return r.done || w.closed || w.stale(r) != nil }); err != nil {
		return nil, err
	}
	switch {
	case r.done:
	case !w.closed:
		w.withdraw(r, w.stale(r))
	default:
		w.withdraw(r, refuse(errs.InvalidState, "the loan is "+string(w.S.Status)))
	}
	return r.reply, r.err
}

// stale is the refusal of a queued request the loan no longer allows, nil
// while it still does or once the main loop has taken it.
func (w *loan) stale(r *request) error {
	if r.taken || r.done {
		return nil
	}
	return r.allowed()
}

// withdraw takes r out of the inbox and answers it with err.
func (w *loan) withdraw(r *request, err error) {
	w.inbox = slices.DeleteFunc(w.inbox, func(q *request) bool { return q == r })
	w.reply(r, err)
}

// Answering a request: its caller hears the outcome, and whether the loan
// goes on is the phase's to say, by what it returns. One rule decides which
// of two calls a phase makes:
//   - answer: the request was carried out by a step, and hears that step's
//     outcome. answer returns the step's error and the phase returns it, so a
//     step that failed (the run cancelled, a refusal the step should never
//     have met) ends the run as any failed step does. Its result is never
//     dropped (TestAnAnswerIsNeverDropped).
//   - reply: the loan goes on whatever the request hears: a request refused
//     without a step (the listing already full, one the loan moved past), an
//     approval answered before its step runs, and a repayment by hand, whose
//     refusal (the balance short, the bank's no) moved nothing.

// answer completes r with the outcome of the step that carried it out, and
// returns that step's error for the phase to return.
func (w *loan) answer(r *request, err error) error {
	w.reply(r, err)
	return err
}

// reply completes r with err (nil: done, with the loan's status unless the
// step set a reply); the loan goes on.
func (w *loan) reply(r *request, err error) {
	r.err, r.done = err, true
	if r.reply == nil && err == nil {
		r.reply = StatusReply{Status: w.S.Status}
	}
}

func (w *loan) has(kinds []string) bool {
	return slices.ContainsFunc(w.inbox, func(r *request) bool { return slices.Contains(kinds, r.kind) })
}

// take hands the main loop the oldest queued request of kinds, judged again
// now: one the loan no longer allows is answered with its refusal instead.
func (w *loan) take(kinds []string) *request {
	for {
		i := slices.IndexFunc(w.inbox, func(r *request) bool { return slices.Contains(kinds, r.kind) })
		if i < 0 {
			return nil
		}
		r := w.inbox[i]
		if err := w.stale(r); err != nil {
			w.withdraw(r, err)
			continue
		}
		w.inbox = slices.Delete(w.inbox, i, i+1)
		r.taken = true
		return r
	}
}

// nextDate is the loan's next dated step, what a clock advance is answered
// with: the listing's expiry, the collection schedule's next stop, or nil
// when only a person can move the loan.
func (w *loan) nextDate() *time.Time {
	switch {
	case w.S.Status.Terminal():
		return nil
	case w.S.Collection != nil:
		return w.nextRepayDate(w.S.Transfers)
	case w.S.Status == lending.StatusListed:
		return w.S.ListingExpiresOn
	}
	return nil
}

func (w *loan) inStatus(statuses ...lending.Status) error {
	if slices.Contains(statuses, w.S.Status) {
		return nil
	}
	return refuse(errs.InvalidState, fmt.Sprintf("the loan is %s", w.S.Status))
}
