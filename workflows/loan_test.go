package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/lending"
)

type LoanSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestLoanWorkflow(t *testing.T) { suite.Run(t, new(LoanSuite)) }

func (s *LoanSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflowWithOptions(LoanWorkflow, workflow.RegisterOptions{Name: LoanWorkflowName})
	s.env.RegisterActivity(&activities.Activities{})
}

func (s *LoanSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var (
	day0   = time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	amount = decimal.RequireFromString("10000.00")
	rateC  = decimal.RequireFromString("0.11")
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func input() LoanInput {
	return LoanInput{LoanID: 42, BorrowerID: 7, Amount: amount, Today: day0}
}

// at runs fn at a step of mock time; steps only order the callbacks.
func (s *LoanSuite) at(step int, fn func()) {
	s.env.RegisterDelayedCallback(fn, time.Duration(step)*time.Minute)
}

// advance sends the clock update and fails the test if it is refused.
func (s *LoanSuite) advance(to time.Time) {
	s.env.UpdateWorkflow(UpdateAdvanceClock, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Fail("advance refused", err.Error()) },
	}, ClockAdvance{Today: to})
}

// decide sends an ops decision and records the reply or the refusal.
func (s *LoanSuite) decide(update string, d Decision, reply *StatusReply, refusal *error) {
	s.env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if refusal != nil {
				*refusal = err
				return
			}
			s.Fail("update refused", err.Error())
		},
		OnComplete: func(v interface{}, err error) {
			if err != nil && refusal != nil {
				*refusal = err
			}
			if r, ok := v.(StatusReply); ok && reply != nil {
				*reply = r
			}
		},
	}, d)
}

func (s *LoanSuite) expectStatus(from, to lending.Status) {
	s.env.OnActivity(a.RecordStatus, mock.Anything, mock.MatchedBy(func(c activities.StatusChange) bool {
		return c.LoanID == 42 && c.To == to && len(c.From) == 1 && c.From[0] == from
	})).Return(nil).Once()
}

// notes accepts any number of history notes (From == To).
func (s *LoanSuite) notes() {
	s.env.OnActivity(a.RecordStatus, mock.Anything, mock.MatchedBy(func(c activities.StatusChange) bool {
		return c.From[0] == c.To
	})).Return(nil).Maybe()
}

func (s *LoanSuite) screening(needsDD bool, grade string) {
	s.expectStatus(lending.StatusSubmitted, lending.StatusScreening)
	s.env.OnActivity(a.ScreenApplication, mock.Anything, activities.ScreenInput{LoanID: 42, Today: day0}).
		Return(activities.ScreenResult{Passed: true, Score: 680, Grade: grade, Rate: rateC, NeedsDueDiligence: needsDD}, nil).Once()
}

func (s *LoanSuite) listing(expires time.Time) {
	s.env.OnActivity(a.ListLoan, mock.Anything, mock.MatchedBy(func(in activities.ListInput) bool {
		return in.LoanID == 42 && in.ExpiresOn.Equal(expires)
	})).Return(activities.ListResult{}, nil).Once()
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).Return(nil).Maybe()
}

var twoInstallments = []activities.Due{{No: 1, DueDate: date(2026, 2, 28)}, {No: 2, DueDate: date(2026, 3, 31)}}

// toRepaying drives a loan from application through disbursement.
func (s *LoanSuite) toRepaying() {
	s.screening(false, "C")
	s.expectStatus(lending.StatusScreening, lending.StatusApproved)
	s.listing(day0.AddDate(0, 0, 7))
	s.env.OnActivity(a.MarkFull, mock.Anything, int64(42)).Return(true, nil).Once()
	s.expectStatus(lending.StatusFull, lending.StatusFullReview)
	s.expectStatus(lending.StatusFullReview, lending.StatusDisbursing)
	s.env.OnActivity(a.Disburse, mock.Anything, activities.DisburseInput{LoanID: 42, Attempt: 1, Today: day0}).
		Return(activities.DisburseResult{Succeeded: true, Schedule: twoInstallments}, nil).Once()
	s.expectStatus(lending.StatusDisbursing, lending.StatusRepaying)
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() {
		s.decide(UpdateFullTenderReview, Decision{Decision: "approve", Note: "ok", Today: day0}, nil, nil)
	})
}

func (s *LoanSuite) TestHappyPathFirstInstallmentThenContinueAsNew() {
	s.notes()
	s.toRepaying()
	s.env.OnActivity(a.Collect, mock.Anything, mock.MatchedBy(func(in activities.CollectInput) bool {
		return in.Step == "reminder" && in.Today.Equal(date(2026, 2, 25))
	})).Return(nil).Once()
	s.env.OnActivity(a.Repay, mock.Anything, activities.RepayInput{LoanID: 42, Kind: activities.RepayAuto, Attempt: 1, Today: date(2026, 2, 28)}).
		Return(activities.RepayResult{Paid: true, Amount: decimal.RequireFromString("5075.69"), Through: 1}, nil).Once()
	s.at(3, func() { s.advance(date(2026, 2, 25)) })
	s.at(4, func() { s.advance(date(2026, 2, 28)) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want continue-as-new, got %v", s.env.GetWorkflowError())
	var next LoanInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.State, "the state travels with Continue-As-New")
	st := *next.State
	s.Equal(2, st.Next, "installment 1 paid, 2 next")
	s.Equal(lending.StatusRepaying, st.Status)
	s.Equal(date(2026, 2, 28), st.HandledThrough)
	s.Equal(date(2026, 3, 28), *st.PublishedNext, "next dated step: the reminder 3 days before 31 March")
}

func (s *LoanSuite) TestResumedRunRepaysLastInstallment() {
	s.notes()
	st := LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, Status: lending.StatusRepaying, Grade: "C", Rate: rateC,
		Today: date(2026, 2, 28), HandledThrough: date(2026, 2, 28), Seq: 9, Schedule: twoInstallments, Next: 2,
		RemindedFor: 1, AutoDebitFor: 1, RepayAttempt: 1}
	in := input()
	in.State = &st
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.Collect, mock.Anything, mock.MatchedBy(func(in activities.CollectInput) bool { return in.Step == "reminder" })).Return(nil).Once()
	s.env.OnActivity(a.Repay, mock.Anything, activities.RepayInput{LoanID: 42, Kind: activities.RepayAuto, Attempt: 2, Today: date(2026, 3, 31)}).
		Return(activities.RepayResult{Paid: true, Amount: decimal.RequireFromString("5046.27"), Through: 2, Finished: true}, nil).Once()
	s.expectStatus(lending.StatusRepaying, lending.StatusRepaid)
	s.at(1, func() { s.advance(date(2026, 3, 31)) })

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Require().NoError(s.env.GetWorkflowError())
	var out LoanState
	s.Require().NoError(s.env.GetWorkflowResult(&out))
	s.Equal(lending.StatusRepaid, out.Status)
}

func (s *LoanSuite) TestDueDiligenceApprovalChangesGradeAndRate() {
	s.notes()
	s.screening(true, "D")
	s.expectStatus(lending.StatusScreening, lending.StatusDueDiligence)
	s.expectStatus(lending.StatusDueDiligence, lending.StatusApproved)
	newRate := decimal.RequireFromString("0.085")
	s.env.OnActivity(a.ListLoan, mock.Anything, mock.MatchedBy(func(in activities.ListInput) bool {
		return in.Grade == "B" && in.Rate.Equal(newRate)
	})).Return(activities.ListResult{}, nil).Once()
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).Return(nil).Maybe()
	var reply StatusReply
	var refused error
	// A review decision in due diligence is refused by the validator.
	s.at(1, func() { s.decide(UpdateFullTenderReview, Decision{Decision: "approve", Today: day0}, nil, &refused) })
	s.at(2, func() {
		s.decide(UpdateDueDiligence, Decision{Decision: "approve", Grade: "B", AnnualRate: &newRate, Note: "verified income", Today: day0}, &reply, nil)
	})
	s.at(3, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().Error(refused)
	s.Contains(refused.Error(), "the loan is due_diligence")
	s.Equal(lending.StatusApproved, reply.Status)
}

func (s *LoanSuite) TestScreeningRejection() {
	s.expectStatus(lending.StatusSubmitted, lending.StatusScreening)
	s.env.OnActivity(a.ScreenApplication, mock.Anything, mock.Anything).
		Return(activities.ScreenResult{Passed: false, Reasons: []string{"age 61 outside 18–60"}}, nil).Once()
	s.env.OnActivity(a.RecordStatus, mock.Anything, mock.MatchedBy(func(c activities.StatusChange) bool {
		return c.To == lending.StatusRejected && c.Note == "age 61 outside 18–60"
	})).Return(nil).Once()

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NoError(s.env.GetWorkflowError())
	var st LoanState
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	s.Equal(lending.StatusRejected, st.Status)
}

func (s *LoanSuite) TestListingExpiryReleasesEveryFreeze() {
	s.notes()
	s.screening(false, "C")
	s.expectStatus(lending.StatusScreening, lending.StatusApproved)
	expires := day0.AddDate(0, 0, 7)
	s.listing(expires)
	s.env.OnActivity(a.CloseListing, mock.Anything, mock.MatchedBy(func(in activities.CloseListingInput) bool {
		return in.To == lending.StatusExpired && in.Today.Equal(expires)
	})).Return(activities.CloseListingResult{Closed: true}, nil).Once()
	s.env.OnActivity(a.ReleaseBids, mock.Anything, activities.ReleaseBidsInput{LoanID: 42, Today: expires}).
		Return(activities.ReleaseBidsResult{Released: 3, Amount: decimal.RequireFromString("4200.00")}, nil).Once()
	// A day short of expiry changes nothing.
	s.at(1, func() { s.advance(expires.AddDate(0, 0, -1)) })
	s.at(2, func() { s.advance(expires) })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NoError(s.env.GetWorkflowError())
	var st LoanState
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	s.Equal(lending.StatusExpired, st.Status)
}

func (s *LoanSuite) TestCancelWhileListed() {
	s.notes()
	s.screening(false, "C")
	s.expectStatus(lending.StatusScreening, lending.StatusApproved)
	s.listing(day0.AddDate(0, 0, 7))
	s.env.OnActivity(a.CloseListing, mock.Anything, mock.MatchedBy(func(in activities.CloseListingInput) bool {
		return in.To == lending.StatusCancelled
	})).Return(activities.CloseListingResult{Closed: true}, nil).Once()
	s.env.OnActivity(a.ReleaseBids, mock.Anything, mock.Anything).Return(activities.ReleaseBidsResult{}, nil).Once()
	var reply StatusReply
	s.at(1, func() {
		s.env.UpdateWorkflow(UpdateCancel, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.Fail("cancel refused", err.Error()) },
			OnComplete: func(v interface{}, err error) { s.NoError(err); reply, _ = v.(StatusReply) },
		}, TodayRequest{Today: day0})
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal(lending.StatusCancelled, reply.Status)
}

func (s *LoanSuite) TestReviewRejectionReleasesBids() {
	s.notes()
	s.screening(false, "C")
	s.expectStatus(lending.StatusScreening, lending.StatusApproved)
	s.listing(day0.AddDate(0, 0, 7))
	s.env.OnActivity(a.MarkFull, mock.Anything, int64(42)).Return(true, nil).Once()
	s.expectStatus(lending.StatusFull, lending.StatusFullReview)
	s.expectStatus(lending.StatusFullReview, lending.StatusReviewRejected)
	s.env.OnActivity(a.ReleaseBids, mock.Anything, mock.Anything).Return(activities.ReleaseBidsResult{Released: 2}, nil).Once()
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() {
		s.decide(UpdateFullTenderReview, Decision{Decision: "reject", Note: "borrower withdrew", Today: day0}, nil, nil)
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Require().NoError(s.env.GetWorkflowError())
	var st LoanState
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	s.Equal(lending.StatusReviewRejected, st.Status)
}

func (s *LoanSuite) TestFailedDisbursementRetriedUnderNewRequestNumber() {
	s.notes()
	s.screening(false, "C")
	s.expectStatus(lending.StatusScreening, lending.StatusApproved)
	s.listing(day0.AddDate(0, 0, 7))
	s.env.OnActivity(a.MarkFull, mock.Anything, int64(42)).Return(true, nil).Once()
	s.expectStatus(lending.StatusFull, lending.StatusFullReview)
	s.expectStatus(lending.StatusFullReview, lending.StatusDisbursing)
	s.env.OnActivity(a.Disburse, mock.Anything, activities.DisburseInput{LoanID: 42, Attempt: 1, Today: day0}).
		Return(activities.DisburseResult{Succeeded: false, Code: "batch_failed"}, nil).Once()
	s.env.OnActivity(a.Disburse, mock.Anything, activities.DisburseInput{LoanID: 42, Attempt: 2, Today: day0}).
		Return(activities.DisburseResult{Succeeded: true, Schedule: twoInstallments}, nil).Once()
	s.expectStatus(lending.StatusDisbursing, lending.StatusRepaying)
	s.at(1, func() { s.env.SignalWorkflow(SignalListingFull, TodayRequest{Today: day0}) })
	s.at(2, func() { s.decide(UpdateFullTenderReview, Decision{Decision: "approve", Today: day0}, nil, nil) })
	s.at(3, func() {
		s.env.UpdateWorkflow(UpdateRetryDisbursal, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("retry refused", err.Error()) }, OnComplete: func(interface{}, error) {},
		}, TodayRequest{Today: day0})
	})
	s.at(4, func() {
		st := s.query()
		s.Equal(lending.StatusRepaying, st.Status)
		s.Equal(2, st.DisburseAttempt)
		s.env.CancelWorkflow()
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, input())
}

func (s *LoanSuite) query() LoanState {
	v, err := s.env.QueryWorkflow(QueryState)
	s.Require().NoError(err)
	var st LoanState
	s.Require().NoError(v.Get(&st))
	return st
}

// An installment left unpaid goes overdue the next day, climbs the collection
// ladder, and after DPD 90 ops are asked to write off; approving closes the loan.
func (s *LoanSuite) TestOverdueCollectionAndWriteOff() {
	s.notes()
	due := date(2026, 2, 28)
	st := LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, Status: lending.StatusRepaying, Grade: "C", Rate: rateC,
		Today: due.AddDate(0, 0, -3), HandledThrough: due.AddDate(0, 0, -3), Seq: 9, Schedule: twoInstallments, Next: 1, RemindedFor: 1}
	in := input()
	in.State = &st
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.Repay, mock.Anything, mock.MatchedBy(func(in activities.RepayInput) bool { return in.Kind == activities.RepayAuto })).
		Return(activities.RepayResult{Paid: false, Code: "insufficient_balance", Detail: "available 0.00 does not cover 5075.69"}, nil)
	s.env.OnActivity(a.MarkOverdue, mock.Anything, mock.Anything).Return(nil)
	s.expectStatus(lending.StatusRepaying, lending.StatusOverdue)
	steps := map[string]int{}
	s.env.OnActivity(a.Collect, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CollectInput) error {
		steps[in.Step]++
		return nil
	})
	s.env.OnActivity(a.WriteOff, mock.Anything, mock.MatchedBy(func(in activities.WriteOffInput) bool {
		return in.Today.Equal(due.AddDate(0, 0, 95))
	})).Return(nil).Once()

	var early, reply error
	var done StatusReply
	s.at(1, func() { s.advance(due) })
	s.at(2, func() { s.advance(due.AddDate(0, 0, 1)) })
	s.at(3, func() {
		s.Equal(lending.StatusOverdue, s.query().Status)
		s.decide(UpdateWriteOff, Decision{Decision: "approve", Today: due.AddDate(0, 0, 1)}, nil, &early)
	})
	// Jumping to DPD 95 in one update still takes every step in date order.
	for i, d := range []int{8, 15, 22, 31, 61, 91, 95} {
		d := d
		s.at(4+i, func() { s.advance(due.AddDate(0, 0, d)) })
	}
	s.at(20, func() {
		s.decide(UpdateWriteOff, Decision{Decision: "approve", Note: "uncollectable", Today: due.AddDate(0, 0, 95)}, &done, &reply)
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	s.Require().NoError(s.env.GetWorkflowError())
	s.Require().Error(early, "write-off before DPD 90 is refused")
	s.NoError(reply)
	s.Equal(lending.StatusWrittenOff, done.Status)
	s.Equal(map[string]int{"m1": 4, "m2": 1, "m3": 1, "write_off_request": 1}, steps)
}

// A repayment by hand that the balance cannot cover is refused with the
// activity's code, and the loan is unchanged.
func (s *LoanSuite) TestRepayByHandRefusedKeepsLoan() {
	s.notes()
	st := LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, Status: lending.StatusRepaying, Today: date(2026, 2, 10),
		HandledThrough: date(2026, 2, 10), Schedule: twoInstallments, Next: 1}
	in := input()
	in.State = &st
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.Repay, mock.Anything, activities.RepayInput{LoanID: 42, Kind: activities.RepayNext, Attempt: 1, Today: date(2026, 2, 10)}).
		Return(activities.RepayResult{Paid: false, Code: "insufficient_balance", Detail: "available 10.00 does not cover 5075.69"}, nil).Once()
	var got error
	s.at(1, func() {
		s.env.UpdateWorkflow(UpdateRepay, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.Fail("refused by validator", err.Error()) },
			OnComplete: func(_ interface{}, err error) { got = err },
		}, RepayRequest{Kind: activities.RepayNext, Today: date(2026, 2, 10)})
	})
	s.at(2, func() {
		s.Equal(1, s.query().Next)
		s.env.CancelWorkflow()
	})

	s.env.ExecuteWorkflow(LoanWorkflowName, in)

	var ae *temporal.ApplicationError
	s.Require().True(errors.As(got, &ae), "got %v", got)
	s.Equal("insufficient_balance", ae.Type())
}

// The clock can read a freshly published date and send its update while the
// publishing activity's answer is still on its way to the workflow. The
// update must then wait for the step, not find the day already "handled".
func (s *LoanSuite) TestClockUpdateDuringPublishStillRunsTheStep() {
	s.notes()
	st := LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, Status: lending.StatusRepaying, Today: date(2026, 2, 20),
		Schedule: twoInstallments, Next: 1}
	in := input()
	in.State = &st
	s.env.OnActivity(a.SetNextEvent, mock.Anything, mock.Anything).After(time.Minute).Return(nil)
	reminded := false
	s.env.OnActivity(a.Collect, mock.Anything, mock.MatchedBy(func(in activities.CollectInput) bool { return in.Step == "reminder" })).
		Return(func(context.Context, activities.CollectInput) error { reminded = true; return nil }).Once()
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateAdvanceClock, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { s.Fail("refused", err.Error()) },
			OnComplete: func(interface{}, error) { s.True(reminded, "the update returned before the reminder ran") },
		}, ClockAdvance{Today: date(2026, 2, 25)})
	}, 30*time.Second)
	s.at(10, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in)
	s.True(reminded)
}
