package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// a names activity methods for the workflow; it is never dereferenced.
var a *activities.Activities

// collectionLadder is the overdue escalation by days past due (DOMAIN.md
// "overdue"): M1 reminders weekly through DPD 30, M2 an ops collection task at
// DPD 31, M3 compensation at DPD 61, and a write-off request once DPD passes 90.
var collectionLadder = []struct {
	DPD  int
	Step string
}{
	{1, "m1"}, {8, "m1"}, {15, "m1"}, {22, "m1"}, {31, "m2"}, {61, "m3"}, {91, "write_off_request"},
}

// writeOffReaskDays: after ops decline a write-off, they are asked again this much later.
const writeOffReaskDays = 30

// LoanInput starts a loan workflow. State is set only by Continue-As-New.
type LoanInput struct {
	LoanID      int64
	BorrowerID  int64
	Amount      decimal.Decimal
	Today       time.Time // the platform's business date at application
	ListingDays int
	State       *LoanState
}

// LoanState is the loan as the workflow knows it; the query returns it and
// Continue-As-New carries it. Only IDs, dates and counters: the schedule's money
// lives in PostgreSQL.
type LoanState struct {
	LoanID     int64
	BorrowerID int64
	Amount     decimal.Decimal
	Status     lending.Status
	Grade      string
	Rate       decimal.Decimal

	Today          time.Time // the business date as this loan last heard it
	HandledThrough time.Time // every event due on or before this date is done
	Seq            int       // history rows written
	PublishedNext  *time.Time

	ListingExpiresOn *time.Time
	DisburseAttempt  int
	Schedule         []activities.Due
	Next             int // the oldest unpaid installment's number
	RemindedFor      int // installment whose pre-due reminder went out
	AutoDebitFor     int // installment whose due-date auto-debit was tried
	RepayAttempt     int
	OverdueThrough   int // highest installment marked overdue
	CollectionStep   int // steps of collectionLadder done for the current delinquency
	WriteOffAsked    bool
	WriteOffReaskDPD int
}

// Decision is an ops decision: due diligence, full-tender review or write-off.
type Decision struct {
	Decision   string // approve | reject
	Grade      string
	AnnualRate *decimal.Decimal
	Note       string
	Today      time.Time
}

// ClockAdvance tells the loan the business date is now Today.
type ClockAdvance struct{ Today time.Time }

// RepayRequest is a borrower's repayment by hand.
type RepayRequest struct {
	Kind  string // next | payoff
	Today time.Time
}

// RepayReply answers a repayment by hand.
type RepayReply struct {
	Amount decimal.Decimal
	Status string
}

// StatusReply answers an ops decision or a cancel with the loan's new status.
type StatusReply struct{ Status lending.Status }

// TodayRequest carries only the business date (cancel, disbursement retry).
type TodayRequest struct{ Today time.Time }

// request is an update waiting for the main loop, which alone changes the loan.
type request struct {
	kind     string
	decision Decision
	repay    RepayRequest
	done     bool
	reply    any
	err      error
}

type loan struct {
	S     LoanState
	in    LoanInput
	inbox []*request
	full  bool // the listing-full signal arrived
	// batchFailed: a disbursement batch failed and waits for ops to retry it.
	batchFailed bool
	closed      bool
}

// LoanWorkflow is the life of one loan (DOMAIN.md "The loan lifecycle").
func LoanWorkflow(ctx workflow.Context, in LoanInput) (LoanState, error) {
	w := &loan{in: in}
	if in.State != nil {
		w.S = *in.State
	} else {
		w.S = LoanState{LoanID: in.LoanID, BorrowerID: in.BorrowerID, Amount: in.Amount,
			Status: lending.StatusSubmitted, Today: in.Today, PublishedNext: &in.Today}
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
	if err != nil {
		return w.S, err
	}
	// Let update handlers reply before the run closes, or their callers get errors.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return w.S, nil
}

// run is the story of the loan, top to bottom.
func (w *loan) run(ctx workflow.Context) error {
	if w.S.Schedule == nil {
		for _, phase := range []func(workflow.Context) (bool, error){w.screen, w.list, w.review, w.disburse} {
			ended, err := phase(ctx)
			if err != nil || ended {
				return err
			}
		}
	}
	return w.repay(ctx)
}

// screen: submitted → screening → rejected | due_diligence → approved | approved.
func (w *loan) screen(ctx workflow.Context) (bool, error) {
	if w.S.Status == lending.StatusSubmitted {
		if err := w.enter(ctx, lending.StatusScreening, "automated screening"); err != nil {
			return false, err
		}
	}
	var res activities.ScreenResult
	if err := workflow.ExecuteActivity(db(ctx), a.ScreenApplication,
		activities.ScreenInput{LoanID: w.S.LoanID, Today: w.S.Today}).Get(ctx, &res); err != nil {
		return false, err
	}
	if !res.Passed {
		return true, w.enter(ctx, lending.StatusRejected, strings.Join(res.Reasons, "; "))
	}
	w.S.Grade, w.S.Rate = res.Grade, res.Rate
	if !res.NeedsDueDiligence {
		return false, w.enter(ctx, lending.StatusApproved, fmt.Sprintf("auto-approved: score %d, grade %s", res.Score, res.Grade))
	}
	if err := w.enter(ctx, lending.StatusDueDiligence, fmt.Sprintf("manual due diligence: score %d, grade %s", res.Score, res.Grade)); err != nil {
		return false, err
	}
	r, _, err := w.wait(ctx, nil, UpdateDueDiligence, UpdateCancel)
	if err != nil {
		return false, err
	}
	if r.kind == UpdateCancel {
		return true, w.answer(r, w.enter(ctx, lending.StatusCancelled, "cancelled by the borrower"))
	}
	d := r.decision
	if d.Decision != "approve" {
		return true, w.answer(r, w.enter(ctx, lending.StatusRejected, "due diligence: "+d.Note))
	}
	if d.Grade != "" {
		w.S.Grade = d.Grade
	}
	if d.AnnualRate != nil {
		w.S.Rate = *d.AnnualRate
	}
	return false, w.answer(r, w.enter(ctx, lending.StatusApproved, "due diligence: "+d.Note))
}

// list: approved → listed → full | expired (流标) | cancelled. Bids are
// admitted by PostgreSQL; this only hears that the listing filled.
func (w *loan) list(ctx workflow.Context) (bool, error) {
	expires := w.S.Today.AddDate(0, 0, w.in.ListingDays)
	var res activities.ListResult
	w.S.Seq++
	if err := workflow.ExecuteActivity(db(ctx), a.ListLoan, activities.ListInput{
		LoanID: w.S.LoanID, Seq: w.S.Seq, Grade: w.S.Grade, Rate: w.S.Rate, Today: w.S.Today, ExpiresOn: expires,
		Note: fmt.Sprintf("open for bids until %s", expires.Format(time.DateOnly)),
	}).Get(ctx, &res); err != nil {
		return false, err
	}
	w.S.Status, w.S.ListingExpiresOn = lending.StatusListed, &expires
	w.actedToday()
	w.upsertSearch(ctx)
	due := &expires
	for {
		r, reached, err := w.wait(ctx, due, UpdateCancel)
		if err != nil {
			return false, err
		}
		switch {
		case w.full:
			w.full = false
			if full, err := w.markFull(ctx); full || err != nil {
				return false, err
			}
		case r != nil:
			closed, err := w.closeListing(ctx, lending.StatusCancelled, "cancelled by the borrower")
			if err != nil {
				return false, w.answer(r, err)
			}
			if closed {
				return true, w.answer(r, nil)
			}
			w.answer(r, temporal.NewNonRetryableApplicationError("the listing is already full", errs.InvalidState, nil))
		case reached:
			closed, err := w.closeListing(ctx, lending.StatusExpired, "listing expired before it was full (流标)")
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

func (w *loan) markFull(ctx workflow.Context) (bool, error) {
	var full bool
	if err := workflow.ExecuteActivity(db(ctx), a.MarkFull, w.S.LoanID).Get(ctx, &full); err != nil || !full {
		return false, err
	}
	return true, w.entered(ctx, lending.StatusFull, "listing full")
}

func (w *loan) closeListing(ctx workflow.Context, to lending.Status, note string) (bool, error) {
	w.S.Seq++
	var res activities.CloseListingResult
	if err := workflow.ExecuteActivity(db(ctx), a.CloseListing, activities.CloseListingInput{
		LoanID: w.S.LoanID, Seq: w.S.Seq, From: []lending.Status{lending.StatusListed}, To: to, Note: note, Today: w.S.Today,
	}).Get(ctx, &res); err != nil || !res.Closed {
		return false, err
	}
	w.S.Status, w.S.PublishedNext = to, nil
	w.upsertSearch(ctx)
	return true, w.releaseBids(ctx)
}

// releaseBids unfreezes every bid. It runs on a disconnected context so that
// cancelling the workflow cannot leave investors' money frozen.
func (w *loan) releaseBids(ctx workflow.Context) error {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	return workflow.ExecuteActivity(bank(dctx), a.ReleaseBids,
		activities.ReleaseBidsInput{LoanID: w.S.LoanID, Today: w.S.Today}).Get(dctx, nil)
}

// review: full → full_review (满标复审) → disbursing | review_rejected.
func (w *loan) review(ctx workflow.Context) (bool, error) {
	if err := w.enter(ctx, lending.StatusFullReview, "awaiting full-tender review"); err != nil {
		return false, err
	}
	r, _, err := w.wait(ctx, nil, UpdateFullTenderReview)
	if err != nil {
		return false, err
	}
	if r.decision.Decision != "approve" {
		err := w.enter(ctx, lending.StatusReviewRejected, "full-tender review: "+r.decision.Note)
		if err == nil {
			err = w.releaseBids(ctx)
		}
		return true, w.answer(r, err)
	}
	return false, w.answer(r, w.enter(ctx, lending.StatusDisbursing, "full-tender review: "+r.decision.Note))
}

// disburse: one bank batch (放款). A failed batch waits for ops to retry it
// under a new request number; the failed one moved nothing, so nothing is paid twice.
func (w *loan) disburse(ctx workflow.Context) (bool, error) {
	for {
		w.S.DisburseAttempt++
		var res activities.DisburseResult
		if err := workflow.ExecuteActivity(bank(ctx), a.Disburse, activities.DisburseInput{
			LoanID: w.S.LoanID, Attempt: w.S.DisburseAttempt, Today: w.S.Today,
		}).Get(ctx, &res); err != nil {
			return false, err
		}
		if res.Succeeded {
			w.actedToday()
			w.S.Schedule, w.S.Next = res.Schedule, 1
			return false, w.enter(ctx, lending.StatusRepaying, fmt.Sprintf("disbursed; %d installments", len(res.Schedule)))
		}
		if err := w.note(ctx, fmt.Sprintf("disbursement batch %d failed (%s); waiting for ops to retry", w.S.DisburseAttempt, res.Code)); err != nil {
			return false, err
		}
		w.batchFailed = true
		r, _, err := w.wait(ctx, nil, UpdateRetryDisbursal)
		if err != nil {
			return false, err
		}
		w.batchFailed = false
		w.answer(r, nil)
	}
}

// repay serves the schedule: reminder, due-date auto-debit, overdue
// collection, repayments by hand, payoff and write-off. It continues as new
// after each paid installment so no history grows with the term.
func (w *loan) repay(ctx workflow.Context) error {
	first := w.S.Next
	for w.S.Status == lending.StatusRepaying || w.S.Status == lending.StatusOverdue {
		on, step := w.nextRepayEvent()
		if w.S.Next > first {
			if cont, err := w.continueAsNew(ctx, on); cont || err != nil {
				return err
			}
		}
		r, reached, err := w.wait(ctx, on, UpdateRepay, UpdateWriteOff)
		if err != nil {
			return err
		}
		switch {
		case r != nil && r.kind == UpdateRepay:
			w.answer(w.repayByHand(ctx, r))
		case r != nil:
			if err := w.answer(r, w.decideWriteOff(ctx, r.decision)); err != nil {
				return err
			}
		case reached:
			if err := w.handleRepayEvent(ctx, step); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *loan) current() activities.Due { return w.S.Schedule[w.S.Next-1] }

func (w *loan) dpd() int { return lending.Days(w.current().DueDate, w.S.Today) }

// nextRepayEvent is the earliest dated step still to do for the oldest
// unpaid installment; nil once only ops or the borrower can move the loan.
func (w *loan) nextRepayEvent() (*time.Time, string) {
	due := w.current().DueDate
	at := func(t time.Time) *time.Time { return &t }
	if w.S.Status == lending.StatusRepaying {
		if w.S.RemindedFor < w.S.Next && w.S.Today.Before(due.AddDate(0, 0, -3)) {
			return at(due.AddDate(0, 0, -3)), "reminder"
		}
		if w.S.AutoDebitFor < w.S.Next {
			return at(due), "due"
		}
		return at(due.AddDate(0, 0, 1)), string(lending.StepMarkOverdue)
	}
	var next *time.Time
	step := ""
	consider := func(on time.Time, s string) {
		if next == nil || on.Before(*next) {
			next, step = at(on), s
		}
	}
	// Later installments falling due while an earlier one is overdue are overdue too.
	if n := w.S.OverdueThrough + 1; n <= len(w.S.Schedule) {
		consider(w.S.Schedule[n-1].DueDate.AddDate(0, 0, 1), string(lending.StepMarkOverdue))
	}
	if w.S.CollectionStep < len(collectionLadder) {
		c := collectionLadder[w.S.CollectionStep]
		consider(due.AddDate(0, 0, c.DPD), c.Step)
	} else if w.S.WriteOffReaskDPD > 0 {
		consider(due.AddDate(0, 0, w.S.WriteOffReaskDPD), "write_off_request")
	}
	return next, step
}

func (w *loan) handleRepayEvent(ctx workflow.Context, step string) error {
	switch step {
	case "reminder":
		w.S.RemindedFor = w.S.Next
		return w.collect(ctx, "reminder")
	case "due":
		w.S.AutoDebitFor = w.S.Next
		_, err := w.autoDebit(ctx)
		return err
	case string(lending.StepMarkOverdue):
		return w.markOverdue(ctx)
	}
	// A collection step: contact, task or compensation, then one more auto-debit try.
	if w.S.CollectionStep < len(collectionLadder) {
		w.S.CollectionStep++
	} else {
		w.S.WriteOffReaskDPD = 0
	}
	if step == "write_off_request" {
		w.S.WriteOffAsked = true
	}
	if err := w.collect(ctx, step); err != nil {
		return err
	}
	_, err := w.autoDebit(ctx)
	return err
}

// markOverdue: every installment past its due date becomes overdue, and the loan with it.
func (w *loan) markOverdue(ctx workflow.Context) error {
	for n := w.S.OverdueThrough + 1; n <= len(w.S.Schedule) && w.S.Today.After(w.S.Schedule[n-1].DueDate); n++ {
		w.S.OverdueThrough = n
	}
	if err := workflow.ExecuteActivity(db(ctx), a.MarkOverdue,
		activities.OverdueInput{LoanID: w.S.LoanID, Today: w.S.Today}).Get(ctx, nil); err != nil {
		return err
	}
	if w.S.Status == lending.StatusOverdue {
		return nil
	}
	return w.enter(ctx, lending.StatusOverdue, fmt.Sprintf("installment %d unpaid after its due date", w.S.Next))
}

func (w *loan) collect(ctx workflow.Context, step string) error {
	w.S.Seq++
	dpd := 0
	if step != "reminder" {
		dpd = w.dpd()
	}
	return workflow.ExecuteActivity(db(ctx), a.Collect, activities.CollectInput{
		LoanID: w.S.LoanID, Seq: w.S.Seq, Step: step, DPD: dpd, Today: w.S.Today,
	}).Get(ctx, nil)
}

func (w *loan) autoDebit(ctx workflow.Context) (activities.RepayResult, error) {
	res, err := w.collectRepayment(ctx, activities.RepayAuto)
	if err != nil || res.Paid {
		return res, err
	}
	return res, w.note(ctx, fmt.Sprintf("auto-debit of installment %d not made: %s", w.S.Next, res.Detail))
}

func (w *loan) repayByHand(ctx workflow.Context, r *request) (*request, error) {
	if r.repay.Kind == activities.RepayPayoff && w.S.Status == lending.StatusOverdue {
		return r, temporal.NewNonRetryableApplicationError("pay the overdue installments before paying off", errs.InvalidState, nil)
	}
	res, err := w.collectRepayment(ctx, r.repay.Kind)
	if err != nil {
		return r, err
	}
	if !res.Paid {
		return r, temporal.NewNonRetryableApplicationError(res.Detail, res.Code, nil)
	}
	r.reply = RepayReply{Amount: res.Amount, Status: "succeeded"}
	return r, nil
}

// collectRepayment runs one repayment attempt and moves the loan on by what it paid.
func (w *loan) collectRepayment(ctx workflow.Context, kind string) (activities.RepayResult, error) {
	w.S.RepayAttempt++
	var res activities.RepayResult
	if err := workflow.ExecuteActivity(bank(ctx), a.Repay, activities.RepayInput{
		LoanID: w.S.LoanID, Kind: kind, Attempt: w.S.RepayAttempt, Today: w.S.Today,
	}).Get(ctx, &res); err != nil || !res.Paid {
		return res, err
	}
	w.S.Next = res.Through + 1
	if res.Finished {
		return res, w.enter(ctx, lending.StatusRepaid, fmt.Sprintf("repaid in full (%s, %s)", kind, res.Amount.StringFixed(2)))
	}
	note := fmt.Sprintf("installment %d paid (%s, %s)", res.Through, kind, res.Amount.StringFixed(2))
	if w.S.Status == lending.StatusOverdue {
		if w.S.OverdueThrough < w.S.Next {
			w.S.CollectionStep, w.S.WriteOffAsked, w.S.WriteOffReaskDPD = 0, false, 0
			return res, w.enter(ctx, lending.StatusRepaying, note+"; no installment overdue")
		}
		// The next overdue installment carries on from its own days past due.
		w.S.CollectionStep = 0
		for w.S.CollectionStep < len(collectionLadder) && collectionLadder[w.S.CollectionStep].DPD <= w.dpd() {
			w.S.CollectionStep++
		}
	}
	return res, w.note(ctx, note)
}

func (w *loan) decideWriteOff(ctx workflow.Context, d Decision) error {
	if d.Decision != "approve" {
		w.S.WriteOffAsked = false
		w.S.WriteOffReaskDPD = w.dpd() + writeOffReaskDays
		return w.note(ctx, "write-off declined: "+d.Note)
	}
	w.S.Seq++
	if err := workflow.ExecuteActivity(db(ctx), a.WriteOff, activities.WriteOffInput{
		LoanID: w.S.LoanID, Seq: w.S.Seq, Note: "written off (核销): " + d.Note, Today: w.S.Today,
	}).Get(ctx, nil); err != nil {
		return err
	}
	return w.entered(ctx, lending.StatusWrittenOff, "")
}

// continueAsNew starts the next run with the state, once the day is handled
// and no update is in flight (an update cut off by Continue-As-New is lost).
func (w *loan) continueAsNew(ctx workflow.Context, next *time.Time) (bool, error) {
	for {
		if (next != nil && !w.S.Today.Before(*next)) || len(w.inbox) > 0 {
			return false, nil
		}
		published, err := w.publishNext(ctx, next)
		if err != nil {
			return false, err
		}
		if !published {
			break
		}
		// The activity yielded: the date may have moved meanwhile; look again.
	}
	w.S.HandledThrough = w.S.Today
	if err := workflow.Await(ctx, func() bool {
		return len(w.inbox) > 0 || w.S.Today.After(w.S.HandledThrough) || workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return false, err
	}
	if len(w.inbox) > 0 || w.S.Today.After(w.S.HandledThrough) {
		return false, nil
	}
	in := w.in
	st := w.S
	in.State = &st
	return true, workflow.NewContinueAsNewError(ctx, LoanWorkflow, in)
}

// wait blocks until the business date reaches due (nil: no dated step), the
// listing fills, or an update of one of kinds arrives. Before blocking it
// publishes the next dated step and marks the day handled, which is what the
// sandbox clock waits for.
func (w *loan) wait(ctx workflow.Context, due *time.Time, kinds ...string) (*request, bool, error) {
	for {
		if r := w.take(kinds); r != nil {
			w.busy()
			return r, false, nil
		}
		if w.full && w.S.Status == lending.StatusListed {
			w.busy()
			return nil, false, nil
		}
		if due != nil && !w.S.Today.Before(*due) {
			w.busy()
			return nil, true, nil
		}
		if published, err := w.publishNext(ctx, due); err != nil {
			return nil, false, err
		} else if published {
			// The activity yielded: the date, an update or the listing may
			// have moved meanwhile (the clock can see the new date and send
			// the update before this run resumes). Look again before
			// declaring the day handled.
			continue
		}
		w.S.HandledThrough = w.S.Today
		if err := workflow.Await(ctx, func() bool {
			return w.S.Today.After(w.S.HandledThrough) || w.full || w.has(kinds)
		}); err != nil {
			return nil, false, err
		}
	}
}

// busy marks today as not yet handled while the loan acts: a clock advance
// arriving now waits until the loan is back in wait. Every activity that moves
// the loan also sets next_event_on to today in the same transaction, so the
// clock knows to wait for it (docs/workflow.md "The business clock").
func (w *loan) busy() {
	w.S.HandledThrough = w.S.Today.AddDate(0, 0, -1)
}

// actedToday records that an activity set next_event_on to today.
func (w *loan) actedToday() {
	t := w.S.Today
	w.S.PublishedNext = &t
}

func (w *loan) has(kinds []string) bool {
	for _, r := range w.inbox {
		for _, k := range kinds {
			if r.kind == k {
				return true
			}
		}
	}
	return false
}

func (w *loan) take(kinds []string) *request {
	for i, r := range w.inbox {
		for _, k := range kinds {
			if r.kind == k {
				w.inbox = append(w.inbox[:i], w.inbox[i+1:]...)
				return r
			}
		}
	}
	return nil
}

// answer completes a waiting update and passes err through to the caller.
func (w *loan) answer(r *request, err error) error {
	r.err, r.done = err, true
	if r.reply == nil && err == nil {
		r.reply = StatusReply{Status: w.S.Status}
	}
	return err
}

// publishNext writes the next dated step to next_event_on unless it is
// there already; true when it ran the activity.
func (w *loan) publishNext(ctx workflow.Context, on *time.Time) (bool, error) {
	if sameDate(on, w.S.PublishedNext) {
		return false, nil
	}
	if err := workflow.ExecuteActivity(db(ctx), a.SetNextEvent,
		activities.NextEventInput{LoanID: w.S.LoanID, On: on}).Get(ctx, nil); err != nil {
		return false, err
	}
	w.S.PublishedNext = on
	return true, nil
}

// enter moves the loan to status to and writes the history row.
func (w *loan) enter(ctx workflow.Context, to lending.Status, note string) error {
	w.S.Seq++
	from := w.S.Status
	// The status changes in memory first: an update sent as soon as the
	// database shows the new status must find the workflow agreeing.
	w.S.Status = to
	if err := workflow.ExecuteActivity(db(ctx), a.RecordStatus, activities.StatusChange{
		LoanID: w.S.LoanID, Seq: w.S.Seq, From: []lending.Status{from}, To: to, Note: note, Today: w.S.Today,
	}).Get(ctx, nil); err != nil {
		return err
	}
	if to.Terminal() {
		w.S.PublishedNext = nil
	} else {
		w.actedToday()
	}
	return w.entered(ctx, to, "")
}

// entered records a status an activity already wrote, and keeps the UI's search attributes current.
func (w *loan) entered(ctx workflow.Context, to lending.Status, note string) error {
	w.S.Status = to
	w.upsertSearch(ctx)
	if note == "" {
		return nil
	}
	return w.note(ctx, note)
}

// note writes a history row without changing status.
func (w *loan) note(ctx workflow.Context, note string) error {
	w.S.Seq++
	return workflow.ExecuteActivity(db(ctx), a.RecordStatus, activities.StatusChange{
		LoanID: w.S.LoanID, Seq: w.S.Seq, From: []lending.Status{w.S.Status}, To: w.S.Status, Note: note, Today: w.S.Today,
	}).Get(ctx, nil)
}

func (w *loan) upsertSearch(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SALoanStatus.ValueSet(string(w.S.Status)),
		SALoanBorrowerID.ValueSet(w.S.BorrowerID),
		SALoanAmountFen.ValueSet(w.S.Amount.Shift(2).IntPart()),
	}
	if w.S.Grade != "" {
		updates = append(updates, SALoanGrade.ValueSet(w.S.Grade))
	}
	// A failed upsert only makes the UI's filter stale; the loan goes on.
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attribute upsert failed", "error", err)
	}
}

func db(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, dbCallOptions)
}
func bank(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, bankCallOptions)
}

func sameDate(x, y *time.Time) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return x.Equal(*y)
}
