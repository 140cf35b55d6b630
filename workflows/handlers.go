package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

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
	w.hearListingFull(ctx)
	for _, register := range []func(workflow.Context) error{
		w.onAdvanceClock,
		onRequest[StatusReply](w, UpdateDueDiligence, checkDecision, w.decision(lending.StatusDueDiligence)),
		onRequest[StatusReply](w, UpdateFullTenderReview, checkDecision, w.decision(lending.StatusFullReview)),
		onRequest[StatusReply](w, UpdateWriteOff, checkDecision, func(d Decision) *request {
			return &request{decision: d, allowed: w.writeOffOpen}
		}),
		onRequest[StatusReply](w, UpdateCancel, nil, func(TodayRequest) *request {
			return &request{allowed: w.cancellable}
		}),
		onRequest[RepayReply](w, UpdateRepay, checkRepay, func(rr RepayRequest) *request {
			return &request{repay: rr, allowed: w.repayable(rr)}
		}),
		onRequest[StatusReply](w, UpdateGuarantee, w.checkGuarantee, func(g GuaranteeDecision) *request {
			d := Decision{Decision: g.Decision, Today: g.Today}
			return &request{decision: d, allowed: func() error { return w.inStatus(lending.StatusAwaitingGuarantor) }}
		}),
		onRequest[StatusReply](w, UpdateRetryDisbursal, nil, func(TodayRequest) *request {
			return &request{allowed: w.retryable}
		}),
		onRequest[TransferReply](w, UpdateOfferTransfer, nil, func(t TransferRequest) *request {
			return &request{transfer: t, allowed: w.offerable}
		}),
		onRequest[TransferReply](w, UpdateBuyTransfer, nil, func(t TransferRequest) *request {
			return &request{transfer: t, allowed: w.buyable(t.TransferID)}
		}),
		onRequest[TransferReply](w, UpdateCancelTransfer, nil, func(t TransferRequest) *request {
			return &request{transfer: t, allowed: w.cancellableTransfer(t)}
		}),
	} {
		if err := register(ctx); err != nil {
			return err
		}
	}
	return nil
}

// dated is a request's message: each carries the business date it was made
// on, which the loan hears (docs/workflow.md "The business clock").
type dated interface{ today() time.Time }

func (d Decision) today() time.Time          { return d.Today }
func (g GuaranteeDecision) today() time.Time { return g.Today }
func (r RepayRequest) today() time.Time      { return r.Today }
func (t TodayRequest) today() time.Time      { return t.Today }

// onRequest registers the update name for a person's request, the one way
// every request's update is made. Its validator checks the message's own
// fields (check, if any) and then admits the request (admit); its handler
// hears the message's date, waits for the step in flight to land (settle),
// and queues the request once (once), answering with the main loop's reply
// as R. queue builds the request from the message, with what the loan must
// allow for it to be carried out.
func onRequest[R any, T dated](w *loan, name string, check func(workflow.Context, T) error,
	queue func(T) *request) func(workflow.Context) error {
	handle := func(ctx workflow.Context, in T) (R, error) {
		w.hear(in.today())
		r := queue(in)
		r.kind = name
		var reply R
		if err := w.settle(ctx, r.allowed); err != nil {
			return reply, err
		}
		out, err := w.once(ctx, r)
		reply, _ = out.(R)
		return reply, err
	}
	validate := func(ctx workflow.Context, in T) error {
		if check != nil {
			if err := check(ctx, in); err != nil {
				return err
			}
		}
		return w.admit(ctx, queue(in).allowed)
	}
	return func(ctx workflow.Context) error {
		return workflow.SetUpdateHandlerWithOptions(ctx, name, handle, workflow.UpdateHandlerOptions{Validator: validate})
	}
}

// hearListingFull hears the bid path's listing-full signal, with its date.
func (w *loan) hearListingFull(ctx workflow.Context) {
	full := workflow.GetSignalChannel(ctx, SignalListingFull)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var t TodayRequest
			full.Receive(ctx, &t)
			w.hear(t.Today)
			w.full = true
		}
	})
}

// onAdvanceClock: the clock's update hears its date and returns once the loan
// has handled it, with the loan's next dated step (docs/workflow.md "The
// business clock").
func (w *loan) onAdvanceClock(ctx workflow.Context) error {
	handle := func(ctx workflow.Context, c ClockAdvance) (ClockReply, error) {
		w.hear(c.Today)
		if err := workflow.Await(ctx, func() bool { return w.closed || w.handled(c.Today) }); err != nil {
			return ClockReply{}, err
		}
		return ClockReply{Next: w.nextDate(), Seq: w.S.Seq}, nil
	}
	return workflow.SetUpdateHandler(ctx, UpdateAdvanceClock, handle)
}

// The checks of a message's own fields, made before the loan is asked.

func checkDecision(_ workflow.Context, d Decision) error {
	if d.Decision != lending.Approve && d.Decision != lending.Reject {
		return refuse(errs.ValidationFailed, "decision must be approve or reject")
	}
	return nil
}

func checkRepay(_ workflow.Context, rr RepayRequest) error {
	if rr.Kind != lending.RepayNext && rr.Kind != lending.RepayPayoff {
		return refuse(errs.ValidationFailed, "kind must be next or payoff")
	}
	return nil
}

// checkGuarantee: only the loan's named guarantor decides; a request
// answered before is answered again as it was, whoever sends it again.
func (w *loan) checkGuarantee(ctx workflow.Context, g GuaranteeDecision) error {
	if g.Decision != lending.Accept && g.Decision != lending.Decline {
		return refuse(errs.ValidationFailed, "decision must be accept or decline")
	}
	if !w.wasAnswered(ctx) && (g.GuarantorID == 0 || g.GuarantorID != w.S.GuarantorID) {
		return refuse(errs.NotGuarantor, "only the loan's named guarantor decides")
	}
	return nil
}

// What the loan must allow for each request to be carried out (request.allowed).
// Each names the status in which the phase that takes the request waits.

// decision is an ops decision taken in status.
func (w *loan) decision(status lending.Status) func(Decision) *request {
	return func(d Decision) *request {
		return &request{decision: d, allowed: func() error { return w.inStatus(status) }}
	}
}

func (w *loan) writeOffOpen() error {
	if err := w.inStatus(lending.StatusOverdue); err != nil {
		return err
	}
	if !w.S.Collection.WriteOffOpen() {
		return refuse(errs.InvalidState,
			"a write-off is decided only while the loan is more than 90 days past due and ops have been asked")
	}
	return nil
}

func (w *loan) cancellable() error {
	if !w.S.Status.Cancellable() {
		return refuse(errs.InvalidState, "the loan is "+string(w.S.Status)+"; it can be cancelled only before it is full")
	}
	if w.listingClosed() {
		return refuse(errs.InvalidState,
			"the listing closed on its expiry date, "+dateOf(*w.S.ListingExpiresOn)+"; it can no longer be cancelled")
	}
	return nil
}

func (w *loan) repayable(rr RepayRequest) func() error {
	return func() error {
		if err := w.inStatus(lending.StatusRepaying, lending.StatusOverdue); err != nil {
			return err
		}
		if rr.Kind == lending.RepayPayoff && w.S.Status == lending.StatusOverdue {
			return refuse(errs.InvalidState, "pay the overdue installments before paying off")
		}
		return nil
	}
}

func (w *loan) retryable() error {
	if err := w.inStatus(lending.StatusDisbursing); err != nil {
		return err
	}
	if !w.batchFailed {
		return refuse(errs.InvalidState, "no disbursement batch has failed")
	}
	return nil
}
