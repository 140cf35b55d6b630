package bidding_test

import (
	"errors"
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

// The filling bid's listing-full signal is lost (Temporal refused it, or the
// API replica died before sending it): the loan stays listed. The worker's
// sweep tells it again, once its bids are settled and a while old; a
// listing still filling, or whose last bid the bank has not answered, is
// left to its bid path.
func TestLostListingFullSignalIsSentAgain(t *testing.T) {
	e, svc, tc := setup(t)
	borrower := e.User("borrower", "0")
	lost := e.ListedLoan(borrower, "1000.00", "C", "0.11", 6, false)
	open := e.ListedLoan(borrower, "1000.00", "C", "0.11", 6, false)
	pending := e.ListedLoan(borrower, "1000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "5000.00")
	tc.On("SignalWorkflow", mock.Anything, lost.WorkflowID, "", workflows.SignalListingFull, mock.Anything).
		Return(errors.New("frontend unavailable")).Once()
	b, err := svc.Place(e.Ctx, inv.ID, lost.ID, decimal.RequireFromString("1000.00"), e.Today)
	require.NoError(t, err, "the bid stands though the signal was lost")
	require.Equal(t, lending.BidFrozen, b.Status)
	_, err = svc.Place(e.Ctx, inv.ID, open.ID, decimal.RequireFromString("500.00"), e.Today)
	require.NoError(t, err)
	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	b, err = svc.Place(e.Ctx, inv.ID, pending.ID, decimal.RequireFromString("1000.00"), e.Today)
	require.NoError(t, err)
	require.Equal(t, lending.BidPending, b.Status)
	e.Sim.SetFaults(sim.FaultConfig{})

	n, err := svc.ResendListingFull(e.Ctx, time.Hour, e.Today)
	require.NoError(t, err)
	assert.Zero(t, n, "its bid is too recent: the bid path may still be signalling")

	tc.On("SignalWorkflow", mock.Anything, lost.WorkflowID, "", workflows.SignalListingFull, workflows.TodayRequest{Today: e.Today}).Return(nil).Once()
	n, err = svc.ResendListingFull(e.Ctx, 0, e.Today)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the full listing with every bid answered")
	tc.AssertExpectations(t)

	_, err = e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'full' WHERE id = $1`, lost.ID) // it heard
	require.NoError(t, err)
	n, err = svc.ResendListingFull(e.Ctx, 0, e.Today)
	require.NoError(t, err)
	assert.Zero(t, n, "a loan that moved on is told nothing")
}
