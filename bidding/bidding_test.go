package bidding_test

import (
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

func setup(t *testing.T) (*testenv.Env, *bidding.Service, *mocks.Client) {
	t.Parallel()
	e := testenv.New(t)
	tc := mocks.NewClient(t)
	return e, bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log), tc
}

// Twelve investors race for a 10,000.00 listing with 1,000.00 each: exactly
// ten are admitted, the listing is never oversubscribed, every admitted bid is
// frozen at the bank, and the workflow hears that it is full.
func TestConcurrentBidsNeverOversubscribe(t *testing.T) {
	e, svc, tc := setup(t)
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "10000.00", "C", "0.11", 6, false)
	tc.On("SignalWorkflow", mock.Anything, loan.WorkflowID, "", workflows.SignalListingFull, mock.Anything).Return(nil)

	var investors []dbq.User
	for i := 0; i < 12; i++ {
		investors = append(investors, e.Investor("C3", "1500.00"))
	}
	var wg sync.WaitGroup
	results := make([]error, len(investors))
	for i, inv := range investors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("1000.00"), e.Today)
		}()
	}
	wg.Wait()

	admitted, refused := 0, 0
	for _, err := range results {
		if err == nil {
			admitted++
			continue
		}
		refused++
		assert.Contains(t, []string{errs.Oversubscribed, errs.ListingNotOpen}, errs.Code(err), "refusal: %v", err)
	}
	assert.Equal(t, 10, admitted)
	assert.Equal(t, 2, refused)
	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "10000.00", after.Raised.StringFixed(2))
	frozen := 0
	for _, inv := range investors {
		avail, fr := e.Balance(*inv.CustodyAccountNo)
		switch fr {
		case "1000.00":
			frozen++
			assert.Equal(t, "500.00", avail)
		case "0.00":
			assert.Equal(t, "1500.00", avail)
		default:
			t.Fatalf("investor %d has %s frozen", inv.ID, fr)
		}
	}
	assert.Equal(t, 10, frozen)
	tc.AssertCalled(t, "SignalWorkflow", mock.Anything, loan.WorkflowID, "", workflows.SignalListingFull, mock.Anything)
}

// The bid rules (docs/rules.md "Bids", 投标判定), each refused with its code and
// leaving nothing frozen.
func TestBidRules(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil)
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "1050.00", "C", "0.11", 6, false)
	rich := e.Investor("C3", "5000.00")
	noRisk := e.User("investor", "5000.00")
	noAccount := e.User("investor", "")
	timid := e.Investor("C1", "5000.00")
	poor := e.Investor("C5", "50.00")
	locked := e.Investor("C5", "5000.00")
	_, err := e.Pool.Exec(e.Ctx, `UPDATE users SET locked = true WHERE id = $1`, locked.ID)
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		who    dbq.User
		amount string
		code   string
	}{
		"below minimum":      {rich, "99.00", errs.BelowMinimumBid},
		"not a multiple":     {rich, "150.50", errs.NotBidMultiple},
		"over the remaining": {rich, "1100.00", errs.Oversubscribed},
		"own loan":           {borrower, "100.00", errs.OwnLoan},
		"no risk assessment": {noRisk, "100.00", errs.NoRiskAssessment},
		"no custody account": {noAccount, "100.00", errs.NoCustodyAccount},
		"grade above level":  {timid, "100.00", errs.SuitabilityMismatch},
		"insufficient":       {poor, "100.00", errs.InsufficientBalance},
		"locked":             {locked, "100.00", errs.AccountLocked},
	} {
		_, err := svc.Place(e.Ctx, tc.who.ID, loan.ID, decimal.RequireFromString(tc.amount), e.Today)
		assert.Equal(t, tc.code, errs.Code(err), "%s: %v", name, err)
	}

	// 1,000.00 leaves 50.00: the last bid may be below the minimum.
	_, err = svc.Place(e.Ctx, rich.ID, loan.ID, decimal.RequireFromString("1000.00"), e.Today)
	require.NoError(t, err)
	_, err = svc.Place(e.Ctx, poor.ID, loan.ID, decimal.RequireFromString("49.00"), e.Today)
	assert.Equal(t, errs.BelowMinimumBid, errs.Code(err), "below the minimum and not the whole remainder")
	b, err := svc.Place(e.Ctx, poor.ID, loan.ID, decimal.RequireFromString("50.00"), e.Today)
	require.NoError(t, err)
	assert.Equal(t, lending.BidFrozen, b.Status)
	_, err = svc.Place(e.Ctx, rich.ID, loan.ID, decimal.RequireFromString("100.00"), e.Today)
	assert.Equal(t, errs.ListingNotOpen, errs.Code(err), "a full listing is not open")

	// After expiry nothing is admitted.
	late := e.ListedLoan(borrower, "2000.00", "C", "0.11", 6, false)
	_, err = svc.Place(e.Ctx, rich.ID, late.ID, decimal.RequireFromString("100.00"), e.Today.AddDate(0, 0, 7))
	assert.Equal(t, errs.ListingNotOpen, errs.Code(err))
}

func TestNewbieListingOnlyForFirstBid(t *testing.T) {
	e, svc, _ := setup(t)
	borrower := e.User("borrower", "0")
	first := e.ListedLoan(borrower, "5000.00", "A", "0.065", 3, false)
	newbie := e.ListedLoan(borrower, "5000.00", "A", "0.065", 3, true)
	veteran := e.Investor("C1", "1000.00")
	fresh := e.Investor("C1", "1000.00")
	_, err := svc.Place(e.Ctx, veteran.ID, first.ID, decimal.RequireFromString("100.00"), e.Today)
	require.NoError(t, err)
	_, err = svc.Place(e.Ctx, veteran.ID, newbie.ID, decimal.RequireFromString("100.00"), e.Today)
	assert.Equal(t, errs.NewbieOnly, errs.Code(err))
	_, err = svc.Place(e.Ctx, fresh.ID, newbie.ID, decimal.RequireFromString("100.00"), e.Today)
	assert.NoError(t, err)
}
