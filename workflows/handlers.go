package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// setup registers the query, the listing-full signal and the updates. Updates
// only validate and queue: the main loop alone changes the loan, so the story in
// run stays the whole story.
func (w *loan) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (LoanState, error) { return w.S, nil }); err != nil {
		return err
	}
	full := workflow.GetSignalChannel(ctx, SignalListingFull)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var t TodayRequest
			full.Receive(ctx, &t)
			w.bumpToday(t)
			w.full = true
		}
	})

	if err := workflow.SetUpdateHandler(ctx, UpdateAdvanceClock, func(ctx workflow.Context, c ClockAdvance) error {
		w.bumpToday(TodayRequest(c))
		return workflow.Await(ctx, func() bool { return w.closed || !w.S.HandledThrough.Before(c.Today) })
	}); err != nil {
		return err
	}

	decide := func(kind string, allowed func() error) error {
		return workflow.SetUpdateHandlerWithOptions(ctx, kind,
			func(ctx workflow.Context, d Decision) (StatusReply, error) {
				w.bumpToday(TodayRequest{Today: d.Today})
				reply, err := w.submit(ctx, &request{kind: kind, decision: d})
				r, _ := reply.(StatusReply)
				return r, err
			},
			workflow.UpdateHandlerOptions{Validator: func(d Decision) error {
				if d.Decision != "approve" && d.Decision != "reject" {
					return refuse(errs.ValidationFailed, "decision must be approve or reject")
				}
				return allowed()
			}})
	}
	if err := decide(UpdateDueDiligence, func() error { return w.inStatus(lending.StatusDueDiligence) }); err != nil {
		return err
	}
	if err := decide(UpdateFullTenderReview, func() error { return w.inStatus(lending.StatusFullReview) }); err != nil {
		return err
	}
	if err := decide(UpdateWriteOff, func() error {
		if !w.S.WriteOffAsked {
			return refuse(errs.InvalidState, "write-off is decided only once the loan is more than 90 days past due")
		}
		return w.inStatus(lending.StatusOverdue)
	}); err != nil {
		return err
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context, t TodayRequest) (StatusReply, error) {
			w.bumpToday(t)
			reply, err := w.submit(ctx, &request{kind: UpdateCancel})
			r, _ := reply.(StatusReply)
			return r, err
		},
		workflow.UpdateHandlerOptions{Validator: func(TodayRequest) error {
			return w.inStatus(lending.StatusSubmitted, lending.StatusScreening, lending.StatusDueDiligence, lending.StatusApproved, lending.StatusListed)
		}}); err != nil {
		return err
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRepay,
		func(ctx workflow.Context, rr RepayRequest) (RepayReply, error) {
			w.bumpToday(TodayRequest{Today: rr.Today})
			reply, err := w.submit(ctx, &request{kind: UpdateRepay, repay: rr})
			r, _ := reply.(RepayReply)
			return r, err
		},
		workflow.UpdateHandlerOptions{Validator: func(rr RepayRequest) error {
			if rr.Kind != activities.RepayNext && rr.Kind != activities.RepayPayoff {
				return refuse(errs.ValidationFailed, "kind must be next or payoff")
			}
			return w.inStatus(lending.StatusRepaying, lending.StatusOverdue)
		}}); err != nil {
		return err
	}

	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRetryDisbursal,
		func(ctx workflow.Context, t TodayRequest) (StatusReply, error) {
			w.bumpToday(t)
			reply, err := w.submit(ctx, &request{kind: UpdateRetryDisbursal})
			r, _ := reply.(StatusReply)
			return r, err
		},
		workflow.UpdateHandlerOptions{Validator: func(TodayRequest) error {
			if err := w.inStatus(lending.StatusDisbursing); err != nil {
				return err
			}
			if !w.batchFailed {
				return refuse(errs.InvalidState, "no disbursement batch has failed")
			}
			return nil
		}})
}

// submit queues r for the main loop and waits for its answer.
func (w *loan) submit(ctx workflow.Context, r *request) (any, error) {
	w.inbox = append(w.inbox, r)
	if err := workflow.Await(ctx, func() bool { return r.done || w.closed }); err != nil {
		return nil, err
	}
	if !r.done {
		return nil, refuse(errs.InvalidState, "the loan is "+string(w.S.Status))
	}
	return r.reply, r.err
}

// bumpToday moves the loan's business date forward; never back.
func (w *loan) bumpToday(t TodayRequest) {
	if t.Today.After(w.S.Today) {
		w.S.Today = t.Today
	}
}

func (w *loan) inStatus(statuses ...lending.Status) error {
	for _, s := range statuses {
		if w.S.Status == s {
			return nil
		}
	}
	return refuse(errs.InvalidState, fmt.Sprintf("the loan is %s", w.S.Status))
}

func refuse(code, msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, code, nil)
}
