package workflows_test

import (
	"errors"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	. "github.com/lendflow/lendflow/workflows"
)

// Requests that meet (docs/workflow.md "Requests"): two requests on one loan
// delivered together, the first moving the loan on. The second is judged
// against the loan as it is when it runs and always answered, before the loan
// moves on: never left waiting in the inbox.
//
// The test environment runs a workflow task after each update it delivers, so
// two updates sent at one step do not meet. They meet as they do on a real
// server: sent while a step is in flight (the loan's row already moved, the
// workflow not yet told), both are admitted, and both are released into the
// inbox in the one task in which the step lands.

// refusedBy checks, at a step of mock time well after the requests were
// sent and before the test ends the workflow, that a request was refused
// with code and a message naming why: answered while the loan lives, not
// when its run closes. The test calls the returned func after the run, so a
// run that ended before the step fails too.
func (s *LoanSuite) refusedBy(step int, what string, got *error, code, msg string) func() {
	checked := false
	s.at(step, func() {
		checked = true
		s.refused(what, *got, code, msg)
	})
	return func() { s.True(checked, "%s: the run ended before step %d", what, step) }
}

func (s *LoanSuite) refused(what string, err error, code, msg string) {
	var ae *temporal.ApplicationError
	if !s.True(errors.As(err, &ae), "%s: not refused (got %v)", what, err) {
		return
	}
	s.Equal(code, ae.Type(), what)
	s.Contains(ae.Message(), msg, what)
}

// The borrower cancels while the bid that filled the listing is being marked
// full: the cancel was allowed when admitted, but the loan is full_review when
// it comes to run it, so it is refused at once (it waited forever before).
func (s *LoanSuite) TestCancelMeetingTheFillingBidIsRefusedOnceFull() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	var refused error
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).After(time.Hour).Run(func(mock.Arguments) {
		s.send(UpdateCancel, "cancel-1", TodayRequest{Today: day0}, nil, &refused)
	}).Return(true, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	checked := s.refusedBy(100, "the cancel", &refused, errs.InvalidState, "the loan is full_review")
	s.at(200, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	checked()
}

// Two full-tender approvals under different keys meet: one disburses the
// loan, the other is refused; with no update left unfinished the loan can
// continue as new when the server suggests it.
func (s *LoanSuite) TestASecondFullTenderApprovalIsRefused() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	replies := make([]any, 2)
	refusals := make([]error, 2)
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).After(time.Hour).Run(func(mock.Arguments) {
		for i, id := range []string{"review-a", "review-b"} {
			s.send(UpdateFullTenderReview, id, Decision{Decision: lending.Approve, Note: "ok", Today: day0}, &replies[i],
				&refusals[i])
		}
	}).Return(true, nil).Once()
	s.env.OnActivity(ActivityDisburse, mock.Anything, mock.Anything).Return(activities.DisburseResult{Succeeded: true,
		Schedule: twoInstallments}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	var loser error
	s.at(100, func() {
		for i := range refusals {
			if refusals[i] != nil {
				loser = refusals[i]
				s.Equal(StatusReply{Status: lending.StatusDisbursing}, replies[1-i], "the other approval disbursed")
			}
		}
	})
	checked := s.refusedBy(100, "the second approval", &loser, errs.InvalidState, "the loan is disbursing")
	s.at(101, func() { s.env.SetContinueAsNewSuggested(true) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	checked()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want continue-as-new, got %v", s.env.GetWorkflowError())
	var next LoanInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Equal(lending.StatusRepaying, next.State.Status)
}

// Approve and reject meet: the one the loan takes first decides, and the
// other is refused at once. A rejection behind an approval hung while the
// loan disbursed; an approval behind a rejection is refused as the loan closes.
func (s *LoanSuite) TestARejectionBehindAnApprovalIsRefused() {
	s.reviewsMeet(lending.Approve)
}

func (s *LoanSuite) TestAnApprovalBehindARejectionIsRefused() {
	s.reviewsMeet(lending.Reject)
}

// reviewsMeet sends an approval and a rejection while the loan is being
// marked full, first the one to be queued first.
func (s *LoanSuite) reviewsMeet(first lending.Decision) {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	replies := map[lending.Decision]*any{lending.Approve: new(any), lending.Reject: new(any)}
	refusals := map[lending.Decision]*error{lending.Approve: new(error), lending.Reject: new(error)}
	second := lending.Reject
	if first == lending.Reject {
		second = lending.Approve
	}
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).After(time.Hour).Run(func(mock.Arguments) {
		// The test environment runs the handler of the later update first,
		// so the one to be queued first is sent second.
		for _, d := range []lending.Decision{second, first} {
			s.send(UpdateFullTenderReview, "review-"+string(d), Decision{Decision: d, Note: string(d), Today: day0},
				replies[d], refusals[d])
		}
	}).Return(true, nil).Once()
	if first == lending.Approve {
		s.env.OnActivity(ActivityDisburse, mock.Anything, mock.Anything).Return(activities.DisburseResult{Succeeded: true,
			Schedule: twoInstallments}, nil).Once()
	} else {
		s.env.OnActivity(ActivityClose, mock.Anything,
			mock.MatchedBy(func(in activities.CloseInput) bool { return in.To == lending.StatusReviewRejected })).
			Return(activities.CloseResult{Closed: true, Released: 2}, nil).Once()
	}
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	checked := func() {}
	if first == lending.Approve { // the loan lives on: the rejection is answered while it does
		checked = s.refusedBy(100, "the rejection", refusals[lending.Reject], errs.InvalidState, "the loan is disbursing")
		s.at(200, func() { s.env.CancelWorkflow() })
	}

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	checked()
	want := map[lending.Decision]lending.Status{lending.Approve: lending.StatusDisbursing,
		lending.Reject: lending.StatusReviewRejected}
	s.Equal(StatusReply{Status: want[first]}, *replies[first], "the first decision is carried out")
	s.refused("the second decision", *refusals[second], errs.InvalidState, "the loan is")
}

// A write-off approved behind the repayment that cures the loan (the oldest
// open installment is now 60 days past due, not 91) is refused when its turn
// comes; it was judged only when admitted before, and the loan was written off.
func (s *LoanSuite) TestAWriteOffBehindTheCuringRepaymentIsRefused() {
	in := input()
	c := NewCollection([]time.Time{date(2026, 2, 28), date(2026, 3, 31)}, day0)
	for !c.WriteOffOpen() {
		stop, _ := c.NextStop()
		c.Take(stop)
	}
	s.Require().Equal(date(2026, 5, 30), c.Through, "DPD 91 of installment 1")
	in.State = &LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Status: lending.StatusOverdue,
		Grade: "C", Rate: rateC,
		Clock: Clock{Today: c.Through, HandledThrough: c.Through}, Seq: 100, Schedule: twoInstallments, Collection: &c,
		RepayAttempt: 9}
	var repaid any
	var writeOff error
	s.env.OnActivity(ActivityRepay, mock.Anything,
		mock.MatchedBy(func(in activities.RepayInput) bool { return in.Kind == lending.RepayNext })).
		After(time.Hour).Run(func(mock.Arguments) {
		s.send(UpdateWriteOff, "write-off-1-a", Decision{Decision: lending.Approve, Note: "uncollectable",
			Today: c.Through}, nil, &writeOff)
	}).Return(activities.RepayResult{Paid: true, Amount: decimal.RequireFromString("5537.45"), Through: 1,
		Status: lending.StatusOverdue}, nil).Once()
	wroteOff := false
	s.env.OnActivity(ActivityWriteOff, mock.Anything,
		mock.Anything).Run(func(mock.Arguments) { wroteOff = true }).Return(nil).Maybe()
	s.at(1, func() {
		s.send(UpdateRepay, "repay-7-a", RepayRequest{Kind: lending.RepayNext, Today: c.Through}, &repaid, nil)
	})
	checked := s.refusedBy(100, "the write-off", &writeOff, errs.InvalidState, "more than 90 days past due")
	s.at(200, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	checked()
	s.False(wroteOff, "the cured loan is not written off")
	s.Equal(RepayReply{Amount: decimal.RequireFromString("5537.45"), Status: "succeeded"}, repaid)
}

// On the listing's expiry date the expiry wins over a cancel of that date,
// whichever reaches the loan first: the loan ends expired (流标) and the
// cancel is refused, as bids are that day (docs/lifecycle.md "Listing").
func (s *LoanSuite) TestTheExpiryWinsOverACancelOnTheExpiryDate() {
	s.expiryMeetsCancel(true)
}

func (s *LoanSuite) TestTheExpiryWinsOverACancelSentAfterTheClock() {
	s.expiryMeetsCancel(false)
}

func (s *LoanSuite) expiryMeetsCancel(cancelFirst bool) {
	expires := day0.AddDate(0, 0, 7)
	s.screenedAndListed(expires)
	s.env.OnActivity(ActivityClose, mock.Anything, mock.MatchedBy(func(in activities.CloseInput) bool {
		return in.To == lending.StatusExpired && in.Today.Equal(expires)
	})).Return(activities.CloseResult{Closed: true, Released: 1}, nil).Once()
	var refused error
	cancel := func() { s.send(UpdateCancel, "cancel-1", TodayRequest{Today: expires}, nil, &refused) }
	advance := func() { s.advance(expires, nil) }
	if cancelFirst {
		s.at(1, cancel)
		s.at(1, advance)
	} else {
		s.at(1, advance)
		s.at(1, cancel)
	}

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(lending.StatusExpired, s.result().Status)
	s.refused("the cancel", refused, errs.InvalidState, "expir")
}
