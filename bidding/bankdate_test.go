package bidding_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/workflows"
)

// The bank froze the bid on its day D but its answers were lost; the sweep
// settles the bid on D+1. The freeze is in the bank's file of D, so the
// ledger must book it on D, the business date the bank's answer carries
// (bank.Result.BusinessDate), not on the day the platform heard of it.
func TestFreezeSettledNextDayIsBookedOnTheBanksDay(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")
	day, next := e.Today, e.Today.AddDate(0, 0, 1)

	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1}) // the bank freezes, and every answer is lost
	bid, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("400.00"), day)
	require.NoError(t, err)
	require.Equal(t, lending.BidPending, bid.Status, "admitted; the bank has not answered")
	e.Sim.SetFaults(sim.FaultConfig{})
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	_, err = svc.SettlePending(e.Ctx, 0, func(context.Context) (time.Time, error) { return next, nil })
	require.NoError(t, err)

	for _, d := range []time.Time{day, next} {
		rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, d, next.AddDate(0, 0, 1))
		require.NoError(t, err)
		require.Equal(t, reconcile.Matched, rep.Status, "%s: %+v", rep.Date, rep.Differences)
	}
}
