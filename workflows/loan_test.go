package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/worker"
	. "github.com/lendflow/lendflow/workflows"
)

// LoanSuite drives the workflow with every activity mocked: each test states
// which activities run, with what input, and what they answer (.Once()), and
// the suite checks after each test that every expectation was met.
type LoanSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestLoanWorkflow(t *testing.T) { suite.Run(t, new(LoanSuite)) }

func (s *LoanSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	worker.Register(s.env, &activities.Activities{})
}

func (s *LoanSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var (
	day0   = date(2026, 1, 31)
	amount = decimal.RequireFromString("10000.00")
	rateC  = decimal.RequireFromString("0.11")
	// A 2-month schedule from 31 January: due 28 February and 31 March.
	twoInstallments = []activities.Due{
		{No: 1, DueDate: date(2026, 2, 28), Amount: decimal.RequireFromString("5075.69")},
		{No: 2, DueDate: date(2026, 3, 31), Amount: decimal.RequireFromString("5046.27")},
	}
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func input() LoanInput {
	return LoanInput{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Today: day0}
}

// at runs fn at a step of mock time; steps only order the callbacks.
func (s *LoanSuite) at(step int, fn func()) {
	s.env.RegisterDelayedCallback(fn, time.Duration(step)*time.Minute)
}

// advance sends the clock update and records the loan's answer.
func (s *LoanSuite) advance(to time.Time, reply *ClockReply) {
	s.env.UpdateWorkflow(UpdateAdvanceClock, "clock-"+to.Format(time.DateOnly), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Fail("advance refused", err.Error()) },
		OnComplete: func(v any, err error) {
			s.NoError(err)
			if r, ok := v.(ClockReply); ok && reply != nil {
				*reply = r
			}
		},
	}, ClockAdvance{Today: to})
}

// send sends an update and records the reply and the refusal, if any.
func (s *LoanSuite) send(update, id string, arg any, reply *any, refusal *error) {
	s.env.UpdateWorkflow(update, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if refusal == nil {
				s.Fail("update refused", err.Error())
				return
			}
			*refusal = err
		},
		OnComplete: func(v any, err error) {
			if err != nil && refusal != nil {
				*refusal = err
			} else if err != nil {
				s.Fail("update failed", err.Error())
			}
			if reply != nil {
				*reply = v
			}
		},
	}, arg)
}

func (s *LoanSuite) decide(update string, d Decision) {
	s.send(update, "", d, nil, nil)
}

// screenedAndListed: screening lists the loan at once until expires.
func (s *LoanSuite) screenedAndListed(expires time.Time) {
	s.env.OnActivity(ActivityScreen, mock.Anything, activities.ScreenInput{LoanID: 42, Seq: 1, Today: day0,
		ListingDays: 7}).
		Return(activities.ScreenResult{Status: lending.StatusListed, Score: 680, Grade: "C", Rate: rateC,
			ExpiresOn: &expires}, nil).Once()
}

// toRepaying drives a loan from application through disbursement on day0.
func (s *LoanSuite) toRepaying() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	s.env.OnActivity(ActivityMarkFull, mock.Anything,
		mock.MatchedBy(func(in activities.MarkFullInput) bool { return in.LoanID == 42 })).
		Return(true, nil).Once()
	s.env.OnActivity(ActivityDisburse, mock.Anything, mock.MatchedBy(func(in activities.DisburseInput) bool {
		return in.LoanID == 42 && in.Attempt == 1 && in.Today.Equal(day0) && in.Note == "full-tender review: ok"
	})).Return(activities.DisburseResult{Succeeded: true, Schedule: twoInstallments}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() { s.decide(UpdateFullTenderReview, Decision{Decision: lending.Approve, Note: "ok", Today: day0}) })
}

// collect expects the collection stop of date on with exactly steps.
func (s *LoanSuite) collect(on time.Time, steps []lending.Step, attempt int, res activities.CollectResult) {
	s.env.OnActivity(ActivityCollect, mock.Anything, mock.MatchedBy(func(in activities.CollectInput) bool {
		return in.LoanID == 42 && in.On.Equal(on) && in.Attempt == attempt && equalSteps(in.Steps, steps)
	})).Return(res, nil).Once()
}

func equalSteps(a, b []lending.Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func paid(through int, finished bool, status lending.Status) activities.CollectResult {
	return activities.CollectResult{Status: status,
		Repay: activities.RepayResult{Paid: true, Through: through, Finished: finished, Status: status}}
}

func (s *LoanSuite) result() LoanState {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var st LoanState
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	return st
}

// The happy path: listed at screening, full, reviewed, disbursed, then each
// due date's auto-debit, one clock stop per installment. Each clock advance
// is answered with the loan's next dated step.
func (s *LoanSuite) TestHappyPathOneStopPerInstallment() {
	s.toRepaying()
	s.collect(date(2026, 2, 28), []lending.Step{lending.StepAutoDebit}, 1, paid(1, false, lending.StatusRepaying))
	s.collect(date(2026, 3, 31), []lending.Step{lending.StepAutoDebit}, 2, paid(2, true, lending.StatusRepaid))
	var early, first, second ClockReply
	s.at(3, func() { s.advance(date(2026, 2, 20), &early) })
	s.at(4, func() { s.advance(date(2026, 2, 28), &first) })
	s.at(5, func() { s.advance(date(2026, 3, 31), &second) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	st := s.result()
	s.Equal(lending.StatusRepaid, st.Status)
	s.Equal(date(2026, 2, 28), *early.Next, "nothing before the first due date")
	s.Equal(date(2026, 3, 31), *first.Next, "installment 1 paid: installment 2's due date next")
	s.Nil(second.Next, "repaid: nothing dated")
	s.Greater(second.Seq, first.Seq, "a later answer carries a later step number")
}

// A stop's Collect is tried once as a local activity; a try that fails for
// any reason but a refusal goes on as the activity, with the same input (the
// same request numbers at the bank), and the next stop tries locally again.
func (s *LoanSuite) TestACollectTryThatFailsGoesOnAsTheActivity() {
	s.toRepaying()
	var tries []activities.CollectInput
	var local []bool
	s.env.OnActivity(ActivityCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			tries = append(tries, in)
			local = append(local, activity.GetInfo(ctx).IsLocalActivity)
			switch len(tries) {
			case 1:
				return activities.CollectResult{}, errors.New("bank: 503 service unavailable")
			case 2:
				return paid(1, false, lending.StatusRepaying), nil
			}
			return paid(2, true, lending.StatusRepaid), nil
		})
	s.at(3, func() { s.advance(date(2026, 2, 28), nil) })
	s.at(4, func() { s.advance(date(2026, 3, 31), nil) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	st := s.result()
	s.Equal(lending.StatusRepaid, st.Status)
	s.Equal([]bool{true, false, true}, local, "local try, the activity after it failed, local again at the next stop")
	s.Require().Len(tries, 3)
	s.Equal(tries[0], tries[1], "the activity sends what the failed try sent")
	s.Equal(1, tries[1].Attempt)
	s.Equal(2, tries[2].Attempt)
}

// A refusal on the local try is the stop's answer: it is not tried again as
// the activity, as the activity would not have retried it either.
func (s *LoanSuite) TestACollectRefusalOnTheLocalTryIsFinal() {
	s.toRepaying()
	calls := 0
	s.env.OnActivity(ActivityCollect, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.CollectInput) (activities.CollectResult, error) {
			calls++
			return activities.CollectResult{}, temporal.NewNonRetryableApplicationError("no such loan", errs.NotFound, nil)
		})
	s.at(3, func() { s.advance(date(2026, 2, 28), nil) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().Error(s.env.GetWorkflowError())
	s.Equal(1, calls)
}

// A clock update that arrives while a step is running waits for it, and is
// answered with the next step after it: the clock can never read a date the
// loan has not finished with.
func (s *LoanSuite) TestClockUpdateDuringAStepIsAnsweredAfterIt() {
	s.toRepaying()
	var reply ClockReply
	s.env.OnActivity(ActivityCollect, mock.Anything, mock.MatchedBy(func(in activities.CollectInput) bool {
		return in.On.Equal(date(2026, 2, 28))
	})).After(time.Hour).Run(func(mock.Arguments) {
		// The same date again, while the auto-debit is in flight.
		s.advance(date(2026, 2, 28), &reply)
	}).Return(paid(1, false, lending.StatusRepaying), nil).Once()
	s.at(3, func() { s.advance(date(2026, 2, 28), nil) })
	s.at(200, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NotNil(reply.Next)
	s.Equal(date(2026, 3, 31), *reply.Next, "answered with the step after the one in flight")
}

// The reported skip: a clock update for a date past several steps (a new run
// hearing it before its first step, or a jump) takes every step on the way,
// late and in date order, instead of skipping those whose date has passed.
func (s *LoanSuite) TestADateJumpedOverStillTakesEveryStep() {
	s.toRepaying()
	notPaid := activities.CollectResult{Status: lending.StatusOverdue,
		Repay: activities.RepayResult{Code: errs.InsufficientBalance, Status: lending.StatusOverdue}}
	s.collect(date(2026, 2, 28), []lending.Step{lending.StepAutoDebit}, 1,
		activities.CollectResult{Status: lending.StatusRepaying,
			Repay: activities.RepayResult{Code: errs.InsufficientBalance, Status: lending.StatusRepaying}})
	s.collect(date(2026, 3, 1), []lending.Step{lending.StepAutoDebit, lending.StepMarkOverdue, lending.StepM1}, 2, notPaid)
	s.collect(date(2026, 3, 8), []lending.Step{lending.StepAutoDebit, lending.StepM1}, 3, notPaid)
	s.collect(date(2026, 3, 15), []lending.Step{lending.StepAutoDebit, lending.StepM1}, 4,
		paid(1, false, lending.StatusRepaying))
	var reply ClockReply
	s.at(3, func() { s.advance(date(2026, 3, 20), &reply) })
	s.at(4, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NotNil(reply.Next)
	s.Equal(date(2026, 3, 31), *reply.Next, "cured on 15 March; installment 2 falls due next")
}

// A repayment by hand on a due date comes before that date's auto-debit, so
// the installment is paid once: the stop that follows concerns installment 2.
func (s *LoanSuite) TestRepaymentByHandComesBeforeTheAutoDebit() {
	s.toRepaying()
	s.env.OnActivity(ActivityRepay, mock.Anything, mock.MatchedBy(func(in activities.RepayInput) bool {
		return in.Kind == lending.RepayNext && in.Attempt == 1 && in.Today.Equal(date(2026, 2, 28))
	})).Return(activities.RepayResult{Paid: true, Amount: decimal.RequireFromString("5075.69"), Through: 1,
		Status: lending.StatusRepaying}, nil).Once()
	var reply any
	var clock ClockReply
	s.at(3, func() {
		s.send(UpdateRepay, "repay-7-abc", RepayRequest{Kind: lending.RepayNext, Today: date(2026, 2, 28)}, &reply, nil)
	})
	s.at(4, func() { s.advance(date(2026, 2, 28), &clock) })
	s.at(5, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(RepayReply{Amount: decimal.RequireFromString("5075.69"), Status: "succeeded"}, reply)
	s.Equal(date(2026, 3, 31), *clock.Next)
}

// A request answered in an earlier run (Continue-As-New forgets Temporal's
// own update IDs) is answered again from the state, not done twice.
func (s *LoanSuite) TestRepaymentSentAgainAfterContinueAsNewIsAnsweredNotPaidTwice() {
	in := input()
	c := NewCollection([]time.Time{date(2026, 2, 28), date(2026, 3, 31)}, day0)
	c.Paid(1)
	in.State = &LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Status: lending.StatusRepaying,
		Grade: "C", Rate: rateC,
		Clock: Clock{Today: date(2026, 2, 20), HandledThrough: date(2026, 2, 20)}, Seq: 50, Schedule: twoInstallments,
		Collection: &c, RepayAttempt: 1,
		Answered: []Answered{{ID: "repay-7-abc", Repay: &RepayReply{Amount: decimal.RequireFromString("5075.69"),
			Status: "succeeded"}}}}
	var reply any
	s.at(1, func() {
		s.send(UpdateRepay, "repay-7-abc", RepayRequest{Kind: lending.RepayNext, Today: date(2026, 2, 21)}, &reply, nil)
	})
	s.at(2, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in) // no Repay activity is expected

	s.Equal(RepayReply{Amount: decimal.RequireFromString("5075.69"), Status: "succeeded"}, reply)
}

// Due diligence: a regrade without a rate of its own takes the new grade's
// rate (grade B: 8.50 %); a review decision meanwhile is refused.
func (s *LoanSuite) TestDueDiligenceRegradeTakesTheGradesRate() {
	s.env.OnActivity(ActivityScreen, mock.Anything, mock.Anything).
		Return(activities.ScreenResult{Status: lending.StatusDueDiligence, Score: 610, Grade: "D",
			Rate: decimal.RequireFromString("0.14")}, nil).Once()
	s.env.OnActivity(ActivityList, mock.Anything, mock.MatchedBy(func(in activities.ListInput) bool {
		return in.Grade == "B" && in.Rate.Equal(decimal.RequireFromString("0.085")) &&
			in.ExpiresOn.Equal(day0.AddDate(0, 0, 7)) &&
			in.Note == "due diligence: collateral seen"
	})).Return(activities.ListResult{}, nil).Once()
	var refused error
	var reply any
	s.at(1, func() {
		s.send(UpdateFullTenderReview, "", Decision{Decision: lending.Approve, Today: day0}, nil, &refused)
	})
	s.at(2, func() {
		s.send(UpdateDueDiligence, "", Decision{Decision: lending.Approve, Grade: "B", Note: "collateral seen",
			Today: day0}, &reply, nil)
	})
	s.at(3, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().Error(refused)
	s.Contains(refused.Error(), "the loan is due_diligence")
	s.Equal(StatusReply{Status: lending.StatusListed}, reply)
}

func (s *LoanSuite) TestScreeningRejectionEndsTheLoan() {
	s.env.OnActivity(ActivityScreen, mock.Anything, mock.Anything).
		Return(activities.ScreenResult{Status: lending.StatusRejected, Reasons: []string{"age 61 outside 18–60"}}, nil).Once()

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(lending.StatusRejected, s.result().Status)
}

func (s *LoanSuite) TestListingExpiryReleasesEveryFreeze() {
	expires := day0.AddDate(0, 0, 7)
	s.screenedAndListed(expires)
	s.env.OnActivity(ActivityClose, mock.Anything, mock.MatchedBy(func(in activities.CloseInput) bool {
		return in.To == lending.StatusExpired && in.Today.Equal(expires) && in.From[0] == lending.StatusListed
	})).Return(activities.CloseResult{Closed: true, Released: 3, Amount: decimal.RequireFromString("4200.00")}, nil).Once()
	var before ClockReply
	s.at(1, func() { s.advance(expires.AddDate(0, 0, -1), &before) }) // a day short changes nothing
	s.at(2, func() { s.advance(expires, nil) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(lending.StatusExpired, s.result().Status)
	s.Equal(expires, *before.Next)
}

func (s *LoanSuite) TestCancelWhileListed() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	s.env.OnActivity(ActivityClose, mock.Anything, mock.MatchedBy(func(in activities.CloseInput) bool {
		return in.To == lending.StatusCancelled
	})).Return(activities.CloseResult{Closed: true}, nil).Once()
	var reply any
	s.at(1, func() { s.send(UpdateCancel, "", TodayRequest{Today: day0}, &reply, nil) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(lending.StatusCancelled, s.result().Status)
	s.Equal(StatusReply{Status: lending.StatusCancelled}, reply)
}

func (s *LoanSuite) TestReviewRejectionReleasesBids() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).Return(true, nil).Once()
	s.env.OnActivity(ActivityClose, mock.Anything, mock.MatchedBy(func(in activities.CloseInput) bool {
		return in.To == lending.StatusReviewRejected && in.From[0] == lending.StatusFullReview &&
			in.Note == "full-tender review: borrower withdrew"
	})).Return(activities.CloseResult{Closed: true, Released: 2}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() {
		s.decide(UpdateFullTenderReview, Decision{Decision: lending.Reject, Note: "borrower withdrew", Today: day0})
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(lending.StatusReviewRejected, s.result().Status)
}

// The bid path resends the listing-full signal when its first try's answer
// was lost, so it can arrive again during the review: the loan ignores it and
// the review goes on (it once spun in its wait, the deadlock detector failing
// every workflow task).
func (s *LoanSuite) TestListingFullSignalAgainDuringReview() {
	s.toRepaying()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(3, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(4, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().True(s.env.IsWorkflowCompleted())
	var st LoanState
	v, err := s.env.QueryWorkflow(QueryState)
	s.Require().NoError(err)
	s.Require().NoError(v.Get(&st))
	s.Equal(lending.StatusRepaying, st.Status, "reviewed and disbursed despite the repeated signal")
}

// The loan's row reads full_review as soon as the mark-full activity commits,
// a moment before the workflow hears it finished: ops who approve in that
// moment are answered once the step lands, not refused.
func (s *LoanSuite) TestReviewDecidedWhileTheLoanIsBeingMarkedFull() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	var reply any
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).After(time.Hour).Run(func(mock.Arguments) {
		s.send(UpdateFullTenderReview, "review-1", Decision{Decision: lending.Approve, Note: "ok", Today: day0}, &reply, nil)
	}).Return(true, nil).Once()
	s.env.OnActivity(ActivityDisburse, mock.Anything, mock.Anything).Return(activities.DisburseResult{Succeeded: true,
		Schedule: twoInstallments}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(200, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(StatusReply{Status: lending.StatusDisbursing}, reply)
}

// A request admitted while a step is in flight is judged again when it
// lands: a due-diligence decision sent while screening lists the loan on its
// own is refused, as it would have been a moment later.
func (s *LoanSuite) TestRequestDuringAStepIsJudgedWhenItLands() {
	expires := day0.AddDate(0, 0, 7)
	var refused error
	s.env.OnActivity(ActivityScreen, mock.Anything, mock.Anything).After(time.Hour).Run(func(mock.Arguments) {
		s.send(UpdateDueDiligence, "dd-1", Decision{Decision: lending.Approve, Today: day0}, nil, &refused)
	}).Return(activities.ScreenResult{Status: lending.StatusListed, Score: 680, Grade: "C", Rate: rateC,
		ExpiresOn: &expires}, nil).Once()
	s.at(200, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	var ae *temporal.ApplicationError
	s.Require().ErrorAs(refused, &ae)
	s.Equal(errs.InvalidState, ae.Type())
	s.Contains(ae.Message(), "the loan is listed")
}

// A failed batch moved nothing: ops retry, and the next batch goes under
// the next attempt number; a retry before any failure is refused.
func (s *LoanSuite) TestFailedDisbursementRetriedUnderNewAttempt() {
	s.screenedAndListed(day0.AddDate(0, 0, 7))
	s.env.OnActivity(ActivityMarkFull, mock.Anything, mock.Anything).Return(true, nil).Once()
	s.env.OnActivity(ActivityDisburse, mock.Anything,
		mock.MatchedBy(func(in activities.DisburseInput) bool { return in.Attempt == 1 })).
		Return(activities.DisburseResult{Succeeded: false, Code: "batch_failed"}, nil).Once()
	s.env.OnActivity(ActivityDisburse, mock.Anything, mock.MatchedBy(func(in activities.DisburseInput) bool {
		return in.Attempt == 2 && in.Note == "ops retried the disbursement (batch 1 failed)"
	})).Return(activities.DisburseResult{Succeeded: true, Schedule: twoInstallments}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() { s.decide(UpdateFullTenderReview, Decision{Decision: lending.Approve, Note: "ok", Today: day0}) })
	s.at(3, func() { s.send(UpdateRetryDisbursal, "", TodayRequest{Today: day0}, nil, nil) })
	s.at(4, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())
}

// Write-off: refused until ops are asked (DPD 91); declined, asked again 30
// days later; approved, the loan ends written off.
func (s *LoanSuite) TestWriteOffAskedDeclinedAskedAgainApproved() {
	in := input()
	c := NewCollection([]time.Time{date(2026, 2, 28), date(2026, 3, 31)}, day0)
	for _, stop := range []time.Time{date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 15),
		date(2026, 3, 22), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 30)} {
		s, _ := c.NextStop()
		if !s.On.Equal(stop) {
			panic("unexpected stop " + s.On.String())
		}
		c.Take(s)
	}
	in.State = &LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Status: lending.StatusOverdue,
		Grade: "C", Rate: rateC,
		Clock: Clock{Today: date(2026, 4, 30), HandledThrough: date(2026, 4, 30)}, Seq: 100, Schedule: twoInstallments,
		Collection: &c, RepayAttempt: 8}
	notPaid := activities.CollectResult{Status: lending.StatusOverdue,
		Repay: activities.RepayResult{Code: errs.InsufficientBalance, Status: lending.StatusOverdue}}
	s.collect(date(2026, 5, 30), []lending.Step{lending.StepAutoDebit, lending.StepWriteOffAsk}, 9, notPaid)
	s.collect(date(2026, 6, 29), []lending.Step{lending.StepAutoDebit, lending.StepWriteOffAsk}, 10, notPaid)
	s.env.OnActivity(ActivityRecord, mock.Anything, mock.MatchedBy(func(in activities.RecordInput) bool {
		return in.To == lending.StatusOverdue && in.Note == "write-off declined: one more try" &&
			in.Next != nil && in.Next.Equal(date(2026, 6, 29)) // asked again 30 days later
	})).Return(nil).Once()
	s.env.OnActivity(ActivityWriteOff, mock.Anything, mock.MatchedBy(func(in activities.WriteOffInput) bool {
		return in.Today.Equal(date(2026, 6, 29)) && in.Note == "written off (核销): uncollectable"
	})).Return(nil).Once()
	var early error
	var reask ClockReply
	s.at(1, func() {
		s.send(UpdateWriteOff, "", Decision{Decision: lending.Approve, Today: date(2026, 4, 30)}, nil, &early)
	})
	s.at(2, func() { s.advance(date(2026, 5, 30), nil) })
	s.at(3, func() {
		s.decide(UpdateWriteOff, Decision{Decision: lending.Reject, Note: "one more try", Today: date(2026, 5, 30)})
	})
	s.at(4, func() { s.advance(date(2026, 6, 1), &reask) })
	s.at(5, func() { s.advance(date(2026, 6, 29), nil) })
	s.at(6, func() {
		s.decide(UpdateWriteOff, Decision{Decision: lending.Approve, Note: "uncollectable", Today: date(2026, 6, 29)})
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Require().Error(early, "DPD 61: too early")
	var ae *temporal.ApplicationError
	s.Require().True(errors.As(early, &ae))
	s.Equal(errs.InvalidState, ae.Type())
	s.Equal(date(2026, 6, 29), *reask.Next, "asked again 30 days after the decline")
	s.Equal(lending.StatusWrittenOff, s.result().Status)
}

// Payoff is refused at once while an installment is overdue.
func (s *LoanSuite) TestPayoffRefusedWhileOverdue() {
	in := input()
	c := NewCollection([]time.Time{date(2026, 2, 28), date(2026, 3, 31)}, day0)
	c.Through = date(2026, 3, 1)
	in.State = &LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Status: lending.StatusOverdue,
		Clock: Clock{Today: date(2026, 3, 2), HandledThrough: date(2026, 3, 2)}, Seq: 60, Schedule: twoInstallments,
		Collection: &c}
	var refused error
	s.at(1, func() {
		s.send(UpdateRepay, "", RepayRequest{Kind: lending.RepayPayoff, Today: date(2026, 3, 2)}, nil, &refused)
	})
	s.at(2, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Require().Error(refused)
	s.Contains(refused.Error(), "pay the overdue installments before paying off")
}

// Continue-As-New carries the whole state; the next run needs no
// bookkeeping of its own to go on.
func (s *LoanSuite) TestContinueAsNewCarriesTheState() {
	s.toRepaying()
	s.collect(date(2026, 2, 28), []lending.Step{lending.StepAutoDebit}, 1, paid(1, false, lending.StatusRepaying))
	s.at(3, func() { s.advance(date(2026, 2, 28), nil) })
	// The server suggests continuing as new; the loan does so at its next idle moment.
	s.at(4, func() { s.env.SetContinueAsNewSuggested(true) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want continue-as-new, got %v", s.env.GetWorkflowError())
	var next LoanInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.State)
	s.Equal(lending.StatusRepaying, next.State.Status)
	s.Require().NotNil(next.State.Collection)
	s.Equal(2, next.State.Collection.Next, "installment 1 paid, 2 next")
	s.Equal(date(2026, 2, 28), next.State.Collection.Through)
	s.Equal(twoInstallments, next.State.Schedule)
	s.Equal(1, next.State.RepayAttempt)
}

// A loan naming a guarantor waits for it after screening; its acceptance
// lists the loan, anyone else's answer is refused.
func (s *LoanSuite) TestGuarantorAcceptsThenListed() {
	in := input()
	in.GuarantorID = 9
	s.env.OnActivity(ActivityScreen, mock.Anything, mock.Anything).
		Return(activities.ScreenResult{Status: lending.StatusAwaitingGuarantor, Grade: "C", Rate: rateC}, nil).Once()
	s.env.OnActivity(ActivityList, mock.Anything, mock.MatchedBy(func(in activities.ListInput) bool {
		return in.From == lending.StatusAwaitingGuarantor && in.Note == "the guarantor accepted" &&
			in.ExpiresOn.Equal(day0.AddDate(0, 0, 7))
	})).Return(activities.ListResult{}, nil).Once()
	var stranger error
	var reply any
	s.at(1, func() {
		s.send(UpdateGuarantee, "", GuaranteeDecision{Decision: lending.Accept, GuarantorID: 8, Today: day0}, nil, &stranger)
	})
	s.at(2, func() {
		s.send(UpdateGuarantee, "", GuaranteeDecision{Decision: lending.Accept, GuarantorID: 9, Today: day0}, &reply, nil)
	})
	s.at(3, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Require().Error(stranger)
	var ae *temporal.ApplicationError
	s.Require().True(errors.As(stranger, &ae))
	s.Equal(errs.NotGuarantor, ae.Type())
	s.Equal(StatusReply{Status: lending.StatusListed}, reply)
}

// A decline ends the loan rejected; after due diligence the loan waits for
// the guarantor too.
func (s *LoanSuite) TestGuarantorDeclinesAfterDueDiligence() {
	in := input()
	in.GuarantorID = 9
	s.env.OnActivity(ActivityScreen, mock.Anything, mock.Anything).
		Return(activities.ScreenResult{Status: lending.StatusDueDiligence, Grade: "D",
			Rate: decimal.RequireFromString("0.14")}, nil).Once()
	s.env.OnActivity(ActivityRecord, mock.Anything, mock.MatchedBy(func(r activities.RecordInput) bool {
		return r.From[0] == lending.StatusDueDiligence && r.To == lending.StatusAwaitingGuarantor &&
			r.Note == "due diligence: fine"
	})).Return(nil).Once()
	s.env.OnActivity(ActivityRecord, mock.Anything, mock.MatchedBy(func(r activities.RecordInput) bool {
		return r.From[0] == lending.StatusAwaitingGuarantor && r.To == lending.StatusRejected
	})).Return(nil).Once()
	s.at(1, func() { s.decide(UpdateDueDiligence, Decision{Decision: lending.Approve, Note: "fine", Today: day0}) })
	s.at(2, func() {
		s.send(UpdateGuarantee, "", GuaranteeDecision{Decision: lending.Decline, GuarantorID: 9, Today: day0}, nil, nil)
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Equal(lending.StatusRejected, s.result().Status)
}

func TestRecoveryWorkflow(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	worker.Register(env, &activities.Activities{})
	want := activities.RecoverResult{Succeeded: true, Amount: decimal.RequireFromString("300.00"),
		Distributed: []activities.Distributed{{Holder: "investor", UserID: 5, Amount: decimal.RequireFromString("300.00")}}}
	env.OnActivity(ActivityRecover, mock.Anything, activities.RecoverInput{RecoveryID: 3}).Return(want, nil).Once()
	env.ExecuteWorkflow(RecoveryWorkflowName, RecoveryInput{LoanID: 42, RecoveryID: 3})
	require.NoError(t, env.GetWorkflowError())
	var got activities.RecoverResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "300.00", got.Amount.StringFixed(2))
	require.Len(t, got.Distributed, 1)
	require.Equal(t, "300.00", got.Distributed[0].Amount.StringFixed(2))
	require.Equal(t, int64(5), got.Distributed[0].UserID)
	env.AssertExpectations(t)
}
