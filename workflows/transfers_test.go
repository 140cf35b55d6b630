package workflows_test

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/transfer"
	. "github.com/lendflow/lendflow/workflows"
)

var (
	listedOn  = date(2026, 2, 10)
	blackout  = date(2026, 2, 23) // 5 days before the first due date, 28 February
	firstDue  = date(2026, 2, 28)
	discount1 = decimal.RequireFromString("0.01")
	price     = decimal.RequireFromString("993.25")
)

// offered expects the offer of holding 5 by investor 9 on 10 February, which
// lists transfer 3 and publishes the listing's lapse as the loan's next step.
func (s *LoanSuite) offered() {
	s.env.OnActivity(ActivityOfferTransfer, mock.Anything, mock.MatchedBy(func(in activities.OfferTransferInput) bool {
		return in.HoldingID == 5 && in.SellerID == 9 && in.Discount.Equal(discount1) && in.Today.Equal(listedOn) &&
			in.Next != nil && in.Next.Equal(blackout)
	})).Return(activities.TransferResult{TransferID: 3}, nil).Once()
	s.at(3, func() {
		s.send(UpdateOfferTransfer, "offer-9-a",
			TransferRequest{HoldingID: 5, UserID: 9, Discount: discount1, Today: listedOn}, nil, nil)
	})
}

// An open listing gives the loan a dated step of its own, the blackout's
// first day before the next due date: the clock stops there, the listing
// lapses, and a purchase dated that day is refused without a step.
func (s *LoanSuite) TestAListingLapsesAtTheBlackout() {
	s.toRepaying()
	s.offered()
	s.env.OnActivity(ActivityLapseTransfers, mock.Anything, mock.MatchedBy(func(in activities.LapseTransfersInput) bool {
		return in.Reason == transfer.LapsedBlackout && in.Today.Equal(blackout) && in.Next != nil && in.Next.Equal(firstDue)
	})).Return(activities.TransferResult{Lapsed: []int64{3}}, nil).Once()
	var atListing, atLapse ClockReply
	var late error
	s.at(4, func() { s.advance(listedOn, &atListing) })
	s.at(5, func() { s.advance(blackout, &atLapse) })
	s.at(6, func() {
		s.send(UpdateBuyTransfer, "buy-transfer-3-1", TransferRequest{TransferID: 3, UserID: 11, Attempt: 1, Price: price,
			Today: blackout}, nil, &late)
	})
	s.at(7, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal(blackout, *atListing.Next, "the clock stops at the listing's lapse")
	s.Equal(firstDue, *atLapse.Next, "then at the due date")
	s.refused("a purchase in the blackout", late, errs.TransferNotOpen, "the listing is not open")
}

// A purchase taken before a repayment by hand: the buyer holds the claim
// when the borrower pays. A repayment by hand while a listing is open
// lapses it: the claim is no longer the one listed.
func (s *LoanSuite) TestAPurchaseAndARepaymentTakeTurns() {
	s.toRepaying()
	s.offered()
	var order []string
	s.env.OnActivity(ActivityBuyTransfer, mock.Anything, mock.MatchedBy(func(in activities.BuyTransferInput) bool {
		return in.TransferID == 3 && in.Attempt == 1 && in.BuyerID == 11 && in.Price.Equal(price) &&
			in.Today.Equal(listedOn) && in.Next != nil && in.Next.Equal(firstDue)
	})).Run(func(mock.Arguments) { order = append(order, "buy") }).
		Return(activities.TransferResult{TransferID: 3, HoldingID: 8, Price: price}, nil).Once()
	s.env.OnActivity(ActivityRepay, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { order = append(order, "repay") }).
		Return(activities.RepayResult{Paid: true, Amount: decimal.RequireFromString("5075.69"), Through: 1,
			Status: lending.StatusRepaying}, nil).Twice()
	s.env.OnActivity(ActivityOfferTransfer, mock.Anything, mock.MatchedBy(func(in activities.OfferTransferInput) bool {
		return in.HoldingID == 8
	})).Return(activities.TransferResult{TransferID: 4}, nil).Once()
	s.env.OnActivity(ActivityLapseTransfers, mock.Anything, mock.MatchedBy(func(in activities.LapseTransfersInput) bool {
		return in.Reason == transfer.LapsedRepaid
	})).Run(func(mock.Arguments) { order = append(order, "lapse") }).
		Return(activities.TransferResult{Lapsed: []int64{4}}, nil).Once()
	var bought any
	s.at(4, func() {
		s.send(UpdateBuyTransfer, "buy-transfer-3-1", TransferRequest{TransferID: 3, UserID: 11, Attempt: 1, Price: price,
			Today: listedOn}, &bought, nil)
		s.send(UpdateRepay, "repay-7-a", RepayRequest{Kind: lending.RepayNext, Today: listedOn}, nil, nil)
	})
	s.at(5, func() {
		s.send(UpdateOfferTransfer, "offer-11-a", TransferRequest{HoldingID: 8, UserID: 11, Discount: discount1,
			Today: date(2026, 3, 1)}, nil, nil)
	})
	s.at(6, func() {
		s.send(UpdateRepay, "repay-7-b", RepayRequest{Kind: lending.RepayNext, Today: date(2026, 3, 1)}, nil, nil)
	})
	s.at(7, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, input())

	s.Equal([]string{"buy", "repay", "repay", "lapse"}, order)
	s.Equal(TransferReply{TransferID: 3, Status: "sold", HoldingID: 8, Price: price}, bought)
}

// A purchase answered in an earlier run is answered again from the state,
// not bought twice; a cancel by someone else's hand is not found.
func (s *LoanSuite) TestAPurchaseSentAgainAfterContinueAsNewIsAnsweredNotBoughtTwice() {
	in := input()
	c := NewCollection([]time.Time{firstDue, date(2026, 3, 31)}, day0)
	sold := TransferReply{TransferID: 3, Status: "sold", HoldingID: 8, Price: price}
	in.State = &LoanState{LoanID: 42, BorrowerID: 7, Amount: amount, TermMonths: 2, Status: lending.StatusRepaying,
		Grade: "C", Rate: rateC, Clock: Clock{Today: listedOn, HandledThrough: listedOn}, Seq: 50,
		Schedule: twoInstallments, Collection: &c, Transfers: []OpenTransfer{{ID: 4, SellerID: 9, HoldingID: 6}},
		Answered: []Answered{{ID: "buy-transfer-3-1", Transfer: &sold}}}
	var reply any
	var notYours error
	s.at(1, func() {
		s.send(UpdateBuyTransfer, "buy-transfer-3-1", TransferRequest{TransferID: 3, UserID: 11, Attempt: 1, Price: price,
			Today: listedOn}, &reply, nil)
		s.send(UpdateCancelTransfer, "cancel-transfer-4", TransferRequest{TransferID: 4, UserID: 11, Today: listedOn},
			nil, &notYours)
	})
	s.at(2, func() { s.env.CancelWorkflow() })

	s.env.ExecuteWorkflow(LoanWorkflowName, in) // no BuyTransfer activity is expected

	s.Equal(sold, reply)
	s.refused("a cancel by another investor", notYours, errs.NotFound, "no such transfer")
}
