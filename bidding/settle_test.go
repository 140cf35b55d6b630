package bidding_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// A freeze the bank never answered leaves the bid pending; settlement sends
// it again under the same request number and the bid ends frozen, at the bank
// and in the ledger, once.
func TestPendingBidIsSettledOnce(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")

	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	bid, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("400.00"), e.Today)
	require.NoError(t, err)
	require.Equal(t, lending.BidPending, bid.Status, "admitted, unanswered by the bank")
	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "400.00", after.Raised.StringFixed(2), "a pending bid holds its place in the listing")

	e.Sim.SetFaults(sim.FaultConfig{})
	today := func(context.Context) (time.Time, error) { return e.Today, nil }
	n, err := svc.SettlePending(e.Ctx, 0, today)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = svc.SettlePending(e.Ctx, 0, today)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "nothing left pending")
	avail, frozen := e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "600.00", avail)
	assert.Equal(t, "400.00", frozen)
	bids, err := e.Q.BidListByLoan(e.Ctx, loan.ID)
	require.NoError(t, err)
	require.Len(t, bids, 1)
	assert.Equal(t, lending.BidFrozen, bids[0].Status)
}
