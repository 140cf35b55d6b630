package bidding_test

import (
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/workflows"
)

// New listings go to the auto-invest rules in queue order: a rule bids
// min(amount per loan, remaining), never below its keep-available floor,
// only on listings inside its limits; one that invested goes to the back.
func TestAutoInvestInQueueOrder(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	first, second, floor, picky := e.Investor("C5", "5000.00"), e.Investor("C5", "5000.00"), e.Investor("C5", "1000.00"), e.Investor("C5", "5000.00")
	rule := func(u dbq.User, amount, minRate, keep string, maxTerm int, maxGrade string) {
		_, err := e.Q.AutoInvestRuleUpsert(e.Ctx, dbq.AutoInvestRuleUpsertParams{UserID: u.ID, Enabled: true,
			AmountPerLoan: decimal.RequireFromString(amount), MinAnnualRate: decimal.RequireFromString(minRate),
			MaxTermMonths: int32(maxTerm), MaxGrade: maxGrade, KeepAvailable: decimal.RequireFromString(keep)})
		require.NoError(t, err)
	}
	rule(first, "2000.00", "0.10", "0.00", 12, "C")
	rule(second, "2000.00", "0.10", "0.00", 12, "C")
	rule(floor, "800.00", "0.10", "500.00", 12, "C") // 1000 − 800 would leave less than 500
	rule(picky, "2000.00", "0.15", "0.00", 12, "C")  // wants more than 11 %

	loan := e.ListedLoan(borrower, "3000.00", "C", "0.11", 6, false)
	risky := e.ListedLoan(borrower, "3000.00", "D", "0.14", 6, false) // beyond every rule's grade
	n, err := svc.AutoInvest(e.Ctx, e.Today)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	bids, err := e.Q.BidListByLoan(e.Ctx, loan.ID)
	require.NoError(t, err)
	require.Len(t, bids, 2)
	assert.Equal(t, first.ID, bids[0].InvestorID)
	assert.Equal(t, "2000.00", bids[0].Amount.StringFixed(2))
	assert.Equal(t, second.ID, bids[1].InvestorID)
	assert.Equal(t, "1000.00", bids[1].Amount.StringFixed(2), "the rest of the listing")
	assert.True(t, bids[0].Auto && bids[1].Auto)
	none, err := e.Q.BidListByLoan(e.Ctx, risky.ID)
	require.NoError(t, err)
	assert.Empty(t, none)

	// Offered once: running again places nothing; a new listing starts with
	// the rule that has waited longest (floor and picky never matched; first went to the back).
	n, err = svc.AutoInvest(e.Ctx, e.Today)
	require.NoError(t, err)
	assert.Zero(t, n)
	next := e.ListedLoan(borrower, "2500.00", "B", "0.12", 3, false)
	_, err = svc.AutoInvest(e.Ctx, e.Today)
	require.NoError(t, err)
	bids, err = e.Q.BidListByLoan(e.Ctx, next.ID)
	require.NoError(t, err)
	require.NotEmpty(t, bids)
	assert.Equal(t, first.ID, bids[0].InvestorID, "first re-queued before second")
	_, floorFrozen := e.Balance(*floor.CustodyAccountNo)
	assert.Equal(t, "0.00", floorFrozen, "the floor was kept")
}

// Two workers offering the same listings at once (or one offering them again
// after dying before it marked them offered) place each rule's bid once.
func TestAutoInvestOfferedTwiceBidsOnce(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	other := bidding.New(dbtest.Another(t, e.Pool), e.Bank, workflows.Signals{Client: tc}, e.Log)
	borrower := e.User("borrower", "0")
	var investors []dbq.User
	for range 6 {
		u := e.Investor("C5", "5000.00")
		investors = append(investors, u)
		_, err := e.Q.AutoInvestRuleUpsert(e.Ctx, dbq.AutoInvestRuleUpsertParams{UserID: u.ID, Enabled: true,
			AmountPerLoan: decimal.RequireFromString("1000.00"), MinAnnualRate: decimal.RequireFromString("0.05"),
			MaxTermMonths: 36, MaxGrade: "E", KeepAvailable: decimal.Zero})
		require.NoError(t, err)
	}
	var loans []dbq.Loan
	for range 4 {
		loans = append(loans, e.ListedLoan(borrower, "4000.00", "C", "0.11", 6, false))
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for _, s := range []*bidding.Service{svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.AutoInvest(e.Ctx, e.Today)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		if round == 0 {
			// As a worker that died before marking them offered leaves them.
			_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET auto_invested = false`)
			require.NoError(t, err)
		}
	}
	perInvestor := map[int64]int{}
	for _, l := range loans {
		bids, err := e.Q.BidListByLoan(e.Ctx, l.ID)
		require.NoError(t, err)
		seen := map[int64]bool{}
		sum := decimal.Zero
		for _, b := range bids {
			assert.False(t, seen[b.InvestorID], "investor %d bid twice on loan %d", b.InvestorID, l.ID)
			seen[b.InvestorID] = true
			perInvestor[b.InvestorID]++
			sum = sum.Add(b.Amount)
		}
		after, err := e.Q.LoanGet(e.Ctx, l.ID)
		require.NoError(t, err)
		assert.Equal(t, "4000.00", after.Raised.StringFixed(2), "loan %d filled by its rules, never beyond", l.ID)
		assert.Equal(t, "4000.00", sum.StringFixed(2))
	}
	frozen := decimal.Zero
	for _, u := range investors {
		_, f := e.Balance(*u.CustodyAccountNo)
		frozen = frozen.Add(decimal.RequireFromString(f))
	}
	assert.Equal(t, "16000.00", frozen.StringFixed(2), "each bid frozen once at the bank")
}
