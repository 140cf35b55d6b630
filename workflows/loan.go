package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/transfer"
)

// LoanInput starts a loan workflow. State is set only by Continue-As-New.
type LoanInput struct {
	LoanID      int64
	BorrowerID  int64
	Amount      decimal.Decimal
	TermMonths  int
	GuarantorID int64     // 0: no guarantor named
	Today       time.Time // the platform's business date at application
	ListingDays int
	State       *LoanState
}

// LoanState is the loan as the workflow knows it; the query returns it and
// Continue-As-New carries it. IDs, dates, counters and the schedule's due
// dates and amounts: the money of each claim lives in PostgreSQL.
type LoanState struct {
	LoanID      int64
	BorrowerID  int64
	Amount      decimal.Decimal
	TermMonths  int
	GuarantorID int64
	Status      lending.Status
	Grade       string
	Rate        decimal.Decimal

	Clock Clock
	Seq   int // the last step number used (history rows, next-step publications)

	ListingExpiresOn *time.Time
	DisburseAttempt  int
	RepayAttempt     int
	Schedule         []activities.Due
	Collection       *Collection // from disbursement on
	// Transfers are the open listings of the loan's claims (transfers.go).
	Transfers []OpenTransfer
	// Answered remembers the latest requests' answers by update ID, so a
	// request sent again after Continue-As-New (which forgets Temporal's own
	// update IDs) is answered, not done twice.
	Answered []Answered
}

// Decision is an ops decision: due diligence, full-tender review or write-off.
type Decision struct {
	Decision   lending.Decision
	Grade      string
	AnnualRate *decimal.Decimal
	Note       string
	Today      time.Time
}

// GuaranteeDecision is the named guarantor's answer (accept | decline).
type GuaranteeDecision struct {
	Decision    lending.Decision
	GuarantorID int64
	Today       time.Time
}

// ClockAdvance tells the loan the business date is now Today.
type ClockAdvance struct{ Today time.Time }

// ClockReply answers a clock advance once the loan has handled its date: its
// next dated step (nil: none, only a person can move it now), as of step Seq.
type ClockReply struct {
	Next *time.Time
	Seq  int
}

// RepayRequest is a borrower's repayment by hand.
type RepayRequest struct {
	Kind  lending.RepayKind // next | payoff
	Today time.Time
}

// RepayReply answers a repayment by hand.
type RepayReply struct {
	Amount decimal.Decimal
	Status string
}

// StatusReply answers an ops decision or a cancel with the loan's new status.
type StatusReply struct{ Status lending.Status }

// TodayRequest carries only the business date (cancel, disbursement retry,
// the listing-full signal).
type TodayRequest struct{ Today time.Time }

type loan struct {
	S     LoanState
	in    LoanInput
	inbox []*request
	full  bool // the listing-full signal arrived
	// batchFailed: a disbursement batch failed and waits for ops to retry it.
	batchFailed bool
	// mayContinue: the loan is in a phase that continues as new once its
	// history is long (repayment), at its next idle moment.
	mayContinue bool
	closed      bool
	// acting counts the activities in flight (see admit).
	acting int
	// reviewNote is ops' full-tender review note, for the disbursement's history row.
	reviewNote string
}

// LoanWorkflow is the life of one loan (docs/lifecycle.md).
func LoanWorkflow(ctx workflow.Context, in LoanInput) (LoanState, error) {
	w := &loan{in: in}
	if in.State != nil {
		w.S = *in.State
	} else {
		w.S = LoanState{LoanID: in.LoanID, BorrowerID: in.BorrowerID, Amount: in.Amount, TermMonths: in.TermMonths,
			GuarantorID: in.GuarantorID, Status: lending.StatusSubmitted, Clock: Clock{Today: in.Today}}
		w.busy()
	}
	if w.in.ListingDays <= 0 {
		w.in.ListingDays = lending.ListingDays
	}
	if err := w.setup(ctx); err != nil {
		return w.S, err
	}
	err := w.run(ctx)
	w.closed = true
	var can *workflow.ContinueAsNewError
	if err != nil && !errors.As(err, &can) {
		return w.S, err
	}
	// Let update handlers reply before the run closes, or their callers get errors.
	if aerr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); aerr != nil {
		return w.S, aerr
	}
	return w.S, err
}

// run is the story of the loan, top to bottom.
func (w *loan) run(ctx workflow.Context) error {
	if w.S.Collection == nil {
		for _, phase := range []func(workflow.Context) (bool, error){w.screen, w.listed, w.review, w.disburse} {
			ended, err := phase(ctx)
			if err != nil || ended {
				return err
			}
		}
	}
	return w.repay(ctx)
}

// screen: submitted → screening → rejected | due_diligence (ops) → listed |
// listed. An application that needs nothing more is listed by the screening
// step itself.
func (w *loan) screen(ctx workflow.Context) (bool, error) {
	var res activities.ScreenResult
	summary := w.sum("screen the application: %s over %d months", yuan(w.S.Amount), w.S.TermMonths)
	in := activities.ScreenInput{LoanID: w.S.LoanID, Seq: w.step(), Today: w.today(), ListingDays: w.in.ListingDays}
	if err := w.exec(ctx, dbCallOptions, ActivityScreen, summary, in, &res); err != nil {
		return false, err
	}
	w.S.Grade, w.S.Rate, w.S.ListingExpiresOn = res.Grade, res.Rate, res.ExpiresOn
	w.moved(ctx, res.Status)
	switch res.Status {
	case lending.StatusAwaitingGuarantor:
		return w.awaitGuarantor(ctx)
	case lending.StatusDueDiligence:
		return w.dueDiligence(ctx)
	}
	return res.Status.Terminal(), nil
}

// dueDiligence waits for ops' decision (尽职调查) on a loan over 50,000.00 or
// of grade D/E.
func (w *loan) dueDiligence(ctx workflow.Context) (bool, error) {
	wk, err := w.wait(ctx, nil, UpdateDueDiligence, UpdateCancel)
	if err != nil {
		return false, err
	}
	r := wk.req
	if r.kind == UpdateCancel {
		err := w.record(ctx, lending.StatusDueDiligence, lending.StatusCancelled, "cancelled by the borrower")
		return true, w.answer(r, err)
	}
	d := r.decision
	if d.Decision != lending.Approve {
		return true, w.answer(r, w.record(ctx, lending.StatusDueDiligence, lending.StatusRejected, "due diligence: "+d.Note))
	}
	// A regrade without a rate of its own takes the new grade's rate
	// (docs/lifecycle.md "Due diligence").
	if d.Grade != "" && d.Grade != w.S.Grade {
		w.S.Grade = d.Grade
		if terms, err := money.TermsFor(money.Grade(d.Grade)); err == nil {
			w.S.Rate = terms.AnnualRate
		}
	}
	if d.AnnualRate != nil {
		w.S.Rate = *d.AnnualRate
	}
	if w.S.GuarantorID != 0 {
		err := w.record(ctx, lending.StatusDueDiligence, lending.StatusAwaitingGuarantor, "due diligence: "+d.Note)
		if err := w.answer(r, err); err != nil {
			return false, err
		}
		return w.awaitGuarantor(ctx)
	}
	return false, w.answer(r, w.list(ctx, lending.StatusDueDiligence, "due diligence: "+d.Note))
}

// awaitGuarantor: awaiting_guarantor → listed when the named guarantor
// accepts (担保), rejected when it declines; the borrower may cancel meanwhile.
func (w *loan) awaitGuarantor(ctx workflow.Context) (bool, error) {
	wk, err := w.wait(ctx, nil, UpdateGuarantee, UpdateCancel)
	if err != nil {
		return false, err
	}
	r := wk.req
	switch {
	case r.kind == UpdateCancel:
		err := w.record(ctx, lending.StatusAwaitingGuarantor, lending.StatusCancelled, "cancelled by the borrower")
		return true, w.answer(r, err)
	case r.decision.Decision != lending.Accept:
		err := w.record(ctx, lending.StatusAwaitingGuarantor, lending.StatusRejected, "the guarantor declined")
		return true, w.answer(r, err)
	}
	return false, w.answer(r, w.list(ctx, lending.StatusAwaitingGuarantor, "the guarantor accepted"))
}

// list opens the listing of a loan approved after from (due diligence, or the
// guarantor's acceptance) for ListingDays.
func (w *loan) list(ctx workflow.Context, from lending.Status, note string) error {
	expires := w.today().AddDate(0, 0, w.in.ListingDays)
	summary := w.sum("open the listing until %s: grade %s at %s", dateOf(expires), w.S.Grade, pct(w.S.Rate))
	in := activities.ListInput{LoanID: w.S.LoanID, Seq: w.step(), From: from, Grade: w.S.Grade, Rate: w.S.Rate,
		Today: w.today(), ExpiresOn: expires, Note: note}
	err := w.exec(ctx, dbCallOptions, ActivityList, summary, in, nil)
	if err == nil {
		w.S.ListingExpiresOn = &expires
		w.moved(ctx, lending.StatusListed)
	}
	return err
}

// listed: listed → full | expired (流标) | cancelled. Bids are admitted by
// PostgreSQL; the workflow only hears that the listing filled.
func (w *loan) listed(ctx workflow.Context) (bool, error) {
	due := w.S.ListingExpiresOn
	for {
		wk, err := w.wait(ctx, due, UpdateCancel)
		if err != nil {
			return false, err
		}
		switch {
		case wk.full:
			if full, err := w.markFull(ctx); full || err != nil {
				return false, err
			}
		case wk.req != nil:
			closed, err := w.close(ctx, lending.StatusListed, lending.StatusCancelled, "cancelled by the borrower")
			if err != nil || closed {
				return closed, w.answer(wk.req, err)
			}
			w.reply(wk.req, refuse(errs.InvalidState, "the listing is already full"))
		case wk.reached:
			closed, err := w.close(ctx, lending.StatusListed, lending.StatusExpired, "listing expired before it was full (流标)")
			if err != nil || closed {
				return closed, err
			}
			// Not closed means raised = amount: full, unless a last freeze is
			// still pending, whose completion signals. Checking here also
			// recovers a listing-full signal that was never delivered.
			if full, err := w.markFull(ctx); full || err != nil {
				return false, err
			}
			due = nil
		}
	}
}

// listingClosed: from its expiry date on, a listing is closed to the
// borrower's cancel as it is to bids (bidding): the expiry step of that date
// takes the loan, whichever message brought the date (docs/lifecycle.md
// "Listing").
func (w *loan) listingClosed() bool {
	return w.S.Status == lending.StatusListed && w.S.ListingExpiresOn != nil && !w.today().Before(*w.S.ListingExpiresOn)
}

func (w *loan) markFull(ctx workflow.Context) (bool, error) {
	var full bool
	summary := w.sum("mark full: %s raised; to full-tender review", yuan(w.S.Amount))
	in := activities.MarkFullInput{LoanID: w.S.LoanID, Seq: w.step(), Today: w.today()}
	if err := w.exec(ctx, dbCallOptions, ActivityMarkFull, summary, in, &full); err != nil || !full {
		return false, err
	}
	w.moved(ctx, lending.StatusFullReview)
	return true, nil
}

// close ends the loan before disbursement and releases every bid's freeze.
// It runs on a disconnected context, so cancelling the workflow cannot leave
// investors' money frozen.
func (w *loan) close(ctx workflow.Context, from, to lending.Status, note string) (bool, error) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	var res activities.CloseResult
	summary := w.sum("close as %s and release every bid's freeze", to)
	in := activities.CloseInput{LoanID: w.S.LoanID, Seq: w.step(), From: []lending.Status{from}, To: to,
		Note: note, Today: w.today()}
	if err := w.exec(dctx, bankCallOptions, ActivityClose, summary, in, &res); err != nil || !res.Closed {
		return false, err
	}
	w.moved(ctx, to)
	return true, nil
}

// review: full_review (满标复审, ops) → disbursing | review_rejected.
func (w *loan) review(ctx workflow.Context) (bool, error) {
	wk, err := w.wait(ctx, nil, UpdateFullTenderReview)
	if err != nil {
		return false, err
	}
	r := wk.req
	if r.decision.Decision != lending.Approve {
		note := "full-tender review: " + r.decision.Note
		closed, err := w.close(ctx, lending.StatusFullReview, lending.StatusReviewRejected, note)
		return closed, w.answer(r, err)
	}
	// Ops hear at once that the loan is disbursing; the batch follows.
	w.S.Status = lending.StatusDisbursing
	w.reply(r, nil)
	w.reviewNote = "full-tender review: " + r.decision.Note
	return false, nil
}

// disburse: one bank batch (放款). A failed batch moved nothing and waits for
// ops to retry it under a new request number, so nothing is paid twice.
func (w *loan) disburse(ctx workflow.Context) (bool, error) {
	note := w.reviewNote
	for {
		w.S.DisburseAttempt++
		var res activities.DisburseResult
		summary := w.sum("disburse %s, batch %d", yuan(w.S.Amount), w.S.DisburseAttempt)
		in := activities.DisburseInput{LoanID: w.S.LoanID, Seq: w.step(), Attempt: w.S.DisburseAttempt,
			Today: w.today(), Note: note}
		if err := w.exec(ctx, bankCallOptions, ActivityDisburse, summary, in, &res); err != nil {
			return false, err
		}
		if res.Succeeded {
			w.S.Schedule = res.Schedule
			due := make([]time.Time, len(res.Schedule))
			for i, d := range res.Schedule {
				due[i] = d.DueDate
			}
			c := NewCollection(due, w.today())
			w.S.Collection = &c
			w.moved(ctx, lending.StatusRepaying)
			return false, nil
		}
		w.moved(ctx, lending.StatusDisbursing)
		w.batchFailed = true
		wk, err := w.wait(ctx, nil, UpdateRetryDisbursal)
		if err != nil {
			return false, err
		}
		w.batchFailed = false
		w.reply(wk.req, nil)
		note = fmt.Sprintf("ops retried the disbursement (batch %d failed)", w.S.DisburseAttempt)
	}
}

// repay serves the schedule: wait for the next dated step or a request,
// handle it, and continue as new once the history is long.
func (w *loan) repay(ctx workflow.Context) error {
	c := w.S.Collection
	for !w.S.Status.Terminal() {
		stop, dated := c.NextStop()
		var due *time.Time
		if dated {
			due = &stop.On
		}
		// An open listing lapses at the blackout before the next due date,
		// which comes before any stop of the schedule.
		lapse := w.lapseOn(w.S.Transfers)
		if lapse != nil {
			due = lapse
		}
		w.mayContinue = true
		w.details(ctx, stop, dated)
		wk, err := w.wait(ctx, due, append([]string{UpdateRepay, UpdateWriteOff}, transferKinds...)...)
		switch {
		case err != nil:
			return err
		case wk.cont:
			in := w.in
			st := w.S
			in.State = &st
			return workflow.NewContinueAsNewError(ctx, LoanWorkflowName, in)
		case wk.req != nil && wk.req.kind == UpdateRepay:
			w.reply(wk.req, w.repayByHand(ctx, wk.req))
			if err := w.lapseIfListed(ctx, wk.req.err == nil, transfer.LapsedRepaid); err != nil {
				return err
			}
		case wk.req != nil && slices.Contains(transferKinds, wk.req.kind):
			w.reply(wk.req, w.transferStep(ctx, wk.req))
		case wk.req != nil:
			if err := w.answer(wk.req, w.decideWriteOff(ctx, wk.req.decision)); err != nil {
				return err
			}
		case wk.reached && lapse != nil:
			if err := w.lapseTransfers(ctx, transfer.LapsedBlackout); err != nil {
				return err
			}
		case wk.reached:
			if err := w.takeStop(ctx, stop); err != nil {
				return err
			}
			if err := w.lapseIfListed(ctx, w.S.Status != lending.StatusRepaying, transfer.LapsedNotDue); err != nil {
				return err
			}
		}
	}
	return nil
}

// lapseIfListed lapses the loan's open listings, if any, when the claims
// they offer have changed (a repayment by hand) or the loan left repaying.
func (w *loan) lapseIfListed(ctx workflow.Context, changed bool, reason string) error {
	if !changed || len(w.S.Transfers) == 0 {
		return nil
	}
	return w.lapseTransfers(ctx, reason)
}

// takeStop takes one stop of the collection schedule.
func (w *loan) takeStop(ctx workflow.Context, stop Stop) error {
	c := w.S.Collection
	in := activities.CollectInput{LoanID: w.S.LoanID, Seq: w.step(), On: stop.On, Steps: stop.Steps,
		Installment: stop.Installment, DPD: stop.DPD}
	if stop.Has(lending.StepAutoDebit) {
		w.S.RepayAttempt++
		in.Attempt = w.S.RepayAttempt
	}
	res, err := w.collect(ctx, stop, in)
	if err != nil {
		return err
	}
	c.Take(stop)
	if res.Repay.Paid {
		c.Paid(res.Repay.Through)
	}
	w.moved(ctx, res.Status)
	return nil
}

// collect runs a stop's Collect. Its first try is a local activity: run by
// the worker inside the workflow task that took the stop, it spares the stop
// an activity task and a second workflow task on the Temporal server
// (BENCHMARKS.md, "Fleet"). One try only: any failure but a refusal goes on
// as the activity Collect, with its retries without limit, its heartbeat and
// its place in the Temporal UI's pending activities, where an engineer sees a
// debit the bank is holding up. Both run on the same input and so send the
// bank the same request numbers: a try that reached the bank is found there
// by the activity, never done twice (docs/workflow.md "Recovery").
func (w *loan) collect(ctx workflow.Context, stop Stop, in activities.CollectInput) (activities.CollectResult, error) {
	var res activities.CollectResult
	summary := w.stopSummary(stop)
	opts := localCollectOptions
	opts.Summary = summary
	w.acting++
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, opts), ActivityCollect, in).Get(ctx, &res)
	w.acting--
	if err == nil || final(err) {
		return res, err
	}
	res = activities.CollectResult{}
	return res, w.exec(ctx, bankCallOptions, ActivityCollect, summary, in, &res)
}

// repayByHand makes the borrower's repayment by hand and answers with its
// outcome; a refusal (the balance short, the bank's no) moved nothing.
func (w *loan) repayByHand(ctx workflow.Context, r *request) error {
	w.S.RepayAttempt++
	var res activities.RepayResult
	in := activities.RepayInput{LoanID: w.S.LoanID, Seq: w.step(), Kind: r.repay.Kind, Attempt: w.S.RepayAttempt,
		Today: w.today()}
	if err := w.exec(ctx, bankCallOptions, ActivityRepay, w.repaySummary(r.repay.Kind), in, &res); err != nil {
		return err
	}
	if !res.Paid {
		return refuse(res.Code, res.Detail)
	}
	w.S.Collection.Paid(res.Through)
	w.moved(ctx, res.Status)
	r.reply = RepayReply{Amount: res.Amount, Status: "succeeded"}
	return nil
}

// decideWriteOff: approved, the loan's receivables close as loss (核销);
// declined, ops are asked again 30 days later.
func (w *loan) decideWriteOff(ctx workflow.Context, d Decision) error {
	if d.Decision != lending.Approve {
		w.S.Collection.DeclineWriteOff(w.today())
		return w.record(ctx, lending.StatusOverdue, lending.StatusOverdue, "write-off declined: "+d.Note)
	}
	summary := w.sum("write off: DPD %d", w.S.Collection.DPD(w.today()))
	note := "written off (核销): " + d.Note
	in := activities.WriteOffInput{LoanID: w.S.LoanID, Seq: w.step(), Note: note, Today: w.today()}
	if err := w.exec(ctx, dbCallOptions, ActivityWriteOff, summary, in, nil); err != nil {
		return err
	}
	w.moved(ctx, lending.StatusWrittenOff)
	return nil
}

// record writes a history row, moving the loan from → to when they differ.
// While the loan is being collected it publishes the loan's next dated step
// with the row: a declined write-off makes one no other message would reveal,
// the request asked again 30 days later, and the clock stops only where a
// loan has published a step (docs/workflow.md "The business clock").
func (w *loan) record(ctx workflow.Context, from, to lending.Status, note string) error {
	in := activities.RecordInput{LoanID: w.S.LoanID, Seq: w.step(), From: []lending.Status{from}, To: to,
		Note: note, Today: w.today()}
	if w.S.Collection != nil && !to.Terminal() {
		in.Next = w.S.Collection.NextDate()
	}
	if err := w.exec(ctx, dbCallOptions, ActivityRecord, w.sum("%s", note), in, nil); err != nil {
		return err
	}
	w.moved(ctx, to)
	return nil
}

// historyLong: continue as new before a run's history reaches 500 events
// (docs/workflow.md "Continue-As-New"). The loop checks between
// steps, and no step adds more than ~60 events.
func historyLong(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() >= continueAsNewAfterEvents || info.GetContinueAsNewSuggested()
}

const continueAsNewAfterEvents = 400

// step takes the next block of step numbers for one activity's history rows.
func (w *loan) step() int {
	seq := w.S.Seq + 1
	w.S.Seq += activities.SeqBlock
	return seq
}

func (w *loan) today() time.Time { return w.S.Clock.Today }

// moved records the status an activity left the loan in, and keeps the UI's
// search attributes current when it changed.
func (w *loan) moved(ctx workflow.Context, to lending.Status) {
	if to == "" || to == w.S.Status {
		return
	}
	w.S.Status = to
	w.upsertSearch(ctx)
}

func (w *loan) upsertSearch(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{SALoanStatus.ValueSet(string(w.S.Status))}
	if w.S.Grade != "" {
		updates = append(updates, SALoanGrade.ValueSet(w.S.Grade))
	}
	// A failed upsert only makes the UI's filter stale; the loan goes on.
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attribute upsert failed", "error", err)
	}
}

// exec runs one activity with its summary, as the Temporal UI shows it.
func (w *loan) exec(ctx workflow.Context, opts workflow.ActivityOptions, name, summary string, in, out any) error {
	opts.Summary = summary
	w.acting++
	defer func() { w.acting-- }()
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), name, in).Get(ctx, out)
}

func refuse(code, msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, code, nil)
}

func dateOf(t time.Time) string { return t.Format(time.DateOnly) }

func (w *loan) sum(format string, args ...any) string {
	return fmt.Sprintf("loan %d: ", w.S.LoanID) + fmt.Sprintf(format, args...)
}

func (w *loan) stopSummary(s Stop) string {
	var parts []string
	for _, st := range s.Steps {
		switch st {
		case lending.StepAutoDebit:
			parts = append(parts, "auto-debit "+w.installment(s.Installment))
		case lending.StepMarkOverdue:
			parts = append(parts, "mark overdue")
		case lending.StepM1:
			parts = append(parts, "M1 overdue notice")
		case lending.StepM2:
			parts = append(parts, "M2 collection task")
		case lending.StepM3:
			parts = append(parts, "M3 compensation")
		case lending.StepWriteOffAsk:
			parts = append(parts, "ask ops to write off")
		}
	}
	s2 := w.sum("%s: %s", dateOf(s.On), strings.Join(parts, ", "))
	if s.DPD > 0 {
		s2 += fmt.Sprintf(" (DPD %d)", s.DPD)
	}
	return s2
}

func (w *loan) repaySummary(kind lending.RepayKind) string {
	if kind == lending.RepayPayoff {
		return w.sum("pay off early, by hand")
	}
	return w.sum("repay %s, by hand", w.installment(w.S.Collection.Next))
}

// installment names installment n for a summary: "installment 3 of 12: 2,588.89".
func (w *loan) installment(n int) string {
	if n < 1 || n > len(w.S.Schedule) {
		return fmt.Sprintf("installment %d", n)
	}
	return fmt.Sprintf("installment %d of %d: %s", n, len(w.S.Schedule), yuan(w.S.Schedule[n-1].Amount))
}

// details keeps the Temporal UI's "current details" on where the loan
// stands: free (no action), unlike a search attribute.
func (w *loan) details(ctx workflow.Context, next Stop, dated bool) {
	c := w.S.Collection
	d := fmt.Sprintf("loan %d · %s over %d months · grade %s at %s · %s",
		w.S.LoanID, yuan(w.S.Amount), w.S.TermMonths, w.S.Grade, pct(w.S.Rate), w.S.Status)
	if dpd := c.DPD(w.today()); dpd > 0 {
		d += fmt.Sprintf(" · installment %d is %d days past due (%s)", c.Next, dpd, lending.Bucket(dpd))
	}
	if l := w.lapseOn(w.S.Transfers); l != nil {
		d += fmt.Sprintf(" · transfer listings %v open until %s", w.transferIDs(), dateOf(l.AddDate(0, 0, -1)))
	}
	if dated {
		d += " · next: " + strings.TrimPrefix(w.stopSummary(next), fmt.Sprintf("loan %d: ", w.S.LoanID))
	}
	workflow.SetCurrentDetails(ctx, d)
}

// StartSummary is the static summary a loan's workflow starts with: loan,
// amount, term and method ("loan 42: 60,000.00 over 12 months, equal_installment").
func StartSummary(loanID int64, amount decimal.Decimal, termMonths int, method string) string {
	return fmt.Sprintf("loan %d: %s over %d months, %s", loanID, yuan(amount), termMonths, method)
}

// yuan formats money with thousands separators: 2,588.89.
func yuan(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// pct formats a rate: 0.085 → 8.50%.
func pct(r decimal.Decimal) string { return r.Shift(2).StringFixed(2) + "%" }
