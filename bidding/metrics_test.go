package bidding_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/workflows"
)

// bidsTotal reads lendflow_bidding_bids_total{outcome} from the default
// registry (0 before the first such bid).
func bidsTotal(t *testing.T, outcome string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "lendflow_bidding_bids_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Every new bid is counted by outcome: admitted, or the refusal's code. Not
// parallel: it reads a process-wide counter.
func TestBidsAreCountedByOutcome(t *testing.T) {
	e := testenv.New(t)
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	svc := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log)
	loan := e.ListedLoan(e.User("borrower", "0"), "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "300.00")
	admitted, poor, small := bidsTotal(t, "admitted"), bidsTotal(t, "insufficient_balance"), bidsTotal(t, "below_minimum_bid")

	_, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("200.00"), e.Today)
	require.NoError(t, err)
	_, err = svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("200.00"), e.Today)
	require.Error(t, err)
	_, err = svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("50.00"), e.Today)
	require.Error(t, err)
	_, err = svc.PlaceOnce(e.Ctx, "k", inv.ID, loan.ID, decimal.RequireFromString("100.00"), e.Today)
	require.NoError(t, err)
	_, err = svc.PlaceOnce(e.Ctx, "k", inv.ID, loan.ID, decimal.RequireFromString("100.00"), e.Today)
	require.NoError(t, err, "the same bid again, not a new one")

	assert.Equal(t, admitted+2, bidsTotal(t, "admitted"))
	assert.Equal(t, poor+1, bidsTotal(t, "insufficient_balance"))
	assert.Equal(t, small+1, bidsTotal(t, "below_minimum_bid"))
}
