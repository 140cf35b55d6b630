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
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/workflows"
)

// Each API replica batches the bids it admits and books in memory
// (batch.go, book.go): a batch is one replica's, and the rules hold across
// replicas because every batch is judged in PostgreSQL, under the investors'
// locks and the listing's guarded increment. Two replicas take bids on one
// listing at once, investors sending to both: the listing is filled exactly,
// never oversubscribed, every admitted bid frozen once, and no investor
// spends more than they have.
func TestTwoReplicasBidOnOneListing(t *testing.T) {
	e, a, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil)
	other := dbtest.Another(t, e.Pool)
	b := bidding.New(other, e.Bank, workflows.Signals{Client: tc}, e.Log)
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "10000.00", "C", "0.11", 6, false)
	var investors []dbq.User
	for range 12 {
		investors = append(investors, e.Investor("C3", "1500.00"))
	}
	// Each investor sends 1,000.00 to both replicas at once: one may pass.
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for _, inv := range investors {
		for _, svc := range []*bidding.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("1000.00"), e.Today)
				mu.Lock()
				codes[errs.Code(err)]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	assert.Equal(t, 10, codes[""], "admitted: %v", codes)
	assert.Equal(t, 24, codes[""]+codes[errs.InsufficientBalance]+codes[errs.Oversubscribed]+codes[errs.ListingNotOpen], "%v", codes)
	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "10000.00", after.Raised.StringFixed(2))
	frozen := decimal.Zero
	for _, inv := range investors {
		avail, fr := e.Balance(*inv.CustodyAccountNo)
		assert.Contains(t, []string{"0.00", "1000.00"}, fr, "investor %d: at most one bid of theirs frozen", inv.ID)
		assert.Equal(t, "1500.00", decimal.RequireFromString(avail).Add(decimal.RequireFromString(fr)).StringFixed(2))
		frozen = frozen.Add(decimal.RequireFromString(fr))
	}
	assert.Equal(t, "10000.00", frozen.StringFixed(2), "the bank froze what the listing raised")
}
