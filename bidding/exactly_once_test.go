package bidding_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// slowBank holds every bank call for a while, so that concurrent requests
// all reach the platform's balance check before the bank has answered any:
// the window in which the platform must count what is in flight.
var slowBank = sim.FaultConfig{Latency: 1, LatencyDuration: 150 * time.Millisecond}

// race runs n calls at once and answers their errors.
func race(n int, call func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts nil errors and refusal codes.
func tally(errors []error) (ok int, codes map[string]int) {
	codes = map[string]int{}
	for _, err := range errors {
		if err == nil {
			ok++
		} else {
			codes[errs.Code(err)]++
		}
	}
	return ok, codes
}

// Four 600.00 bids at once from one investor holding 1,000.00: the platform
// admits one and refuses three before the bank is asked (one bid row, one
// freeze request), because the check counts the pending bid under the
// investor's lock.
func TestConcurrentBidsByOneInvestorCannotOverspend(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "10000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")

	e.Sim.SetFaults(slowBank)
	results := race(4, func(int) error {
		_, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("600.00"), e.Today)
		return err
	})
	e.Sim.SetFaults(sim.FaultConfig{})
	ok, codes := tally(results)
	t.Logf("4 concurrent 600.00 bids from 1,000.00: %d admitted, refused %v", ok, codes)
	assert.Equal(t, 1, ok)
	assert.Equal(t, map[string]int{errs.InsufficientBalance: 3}, codes)

	bids, err := e.Q.BidListByLoan(e.Ctx, loan.ID)
	require.NoError(t, err)
	require.Len(t, bids, 1, "the refused bids were never written, so the bank was never asked for them")
	assert.Equal(t, lending.BidFrozen, bids[0].Status)
	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "600.00", after.Raised.StringFixed(2))
	avail, frozen := e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "400.00", avail)
	assert.Equal(t, "600.00", frozen)
}

// A bid and a withdrawal at once, each 600.00 of 1,000.00: one lock per
// user covers both paths, so only one passes.
func TestConcurrentBidAndWithdrawalByOneUser(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "10000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")
	noon := time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC)

	e.Sim.SetFaults(slowBank)
	results := race(4, func(i int) error {
		if i%2 == 0 {
			_, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("600.00"), e.Today)
			return err
		}
		_, err := e.Accounts.Withdraw(e.Ctx, inv.ID, decimal.RequireFromString("600.00"), e.Today, noon)
		return err
	})
	e.Sim.SetFaults(sim.FaultConfig{})
	ok, codes := tally(results)
	t.Logf("2 bids and 2 withdrawals of 600.00 at once from 1,000.00: %d accepted, refused %v", ok, codes)
	assert.Equal(t, 1, ok)
	assert.Equal(t, map[string]int{errs.InsufficientBalance: 3}, codes)
	var n int
	require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT (SELECT count(*) FROM bids WHERE investor_id = $1) + (SELECT count(*) FROM withdrawals WHERE user_id = $1)`, inv.ID).Scan(&n))
	assert.Equal(t, 1, n, "one effect asked of the bank")
	// Let a withdrawal finish at the bank before the environment's checks.
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "every withdrawal settled", func() bool {
		_, err := e.Accounts.SettlePending(e.Ctx, 0)
		require.NoError(t, err)
		var processing int
		require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM withdrawals WHERE status = 'processing'`).Scan(&processing))
		return processing == 0
	})
}

// Four first bids at once by one investor on a newbie listing (新手标): one
// is the first, the others are not.
func TestConcurrentFirstBidsOnNewbieListingAdmitOne(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	newbie := e.ListedLoan(borrower, "5000.00", "A", "0.065", 3, true)
	fresh := e.Investor("C1", "5000.00")

	e.Sim.SetFaults(slowBank)
	results := race(4, func(int) error {
		_, err := svc.Place(e.Ctx, fresh.ID, newbie.ID, decimal.RequireFromString("100.00"), e.Today)
		return err
	})
	e.Sim.SetFaults(sim.FaultConfig{})
	ok, codes := tally(results)
	t.Logf("4 concurrent first bids on a newbie listing: %d admitted, refused %v", ok, codes)
	assert.Equal(t, 1, ok)
	assert.Equal(t, map[string]int{errs.NewbieOnly: 3}, codes)
	after, err := e.Q.LoanGet(e.Ctx, newbie.ID)
	require.NoError(t, err)
	assert.Equal(t, "100.00", after.Raised.StringFixed(2))
}

// The report: the bank does the freeze and answers 500, every
// time. The bid is admitted and pending; the same request under the same
// key answers the same bid, pending, then frozen once the sweep has settled
// it; 500.00 is frozen once and raised is 500.00, not 1,000.00.
func TestBidUnderKeyIsPlacedOnce(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "2000.00")
	amt := decimal.RequireFromString("500.00")

	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	first, err := svc.PlaceOnce(e.Ctx, "bid-key-1", inv.ID, loan.ID, amt, e.Today)
	require.NoError(t, err)
	assert.Equal(t, lending.BidPending, first.Status)
	again, err := svc.PlaceOnce(e.Ctx, "bid-key-1", inv.ID, loan.ID, amt, e.Today)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID, "the same bid, never a second")
	assert.Equal(t, lending.BidPending, again.Status)

	e.Sim.SetFaults(sim.FaultConfig{})
	_, err = svc.SettlePending(e.Ctx, 0, func(context.Context) (time.Time, error) { return e.Today, nil })
	require.NoError(t, err)
	settled, err := svc.PlaceOnce(e.Ctx, "bid-key-1", inv.ID, loan.ID, amt, e.Today)
	require.NoError(t, err)
	assert.Equal(t, first.ID, settled.ID)
	assert.Equal(t, lending.BidFrozen, settled.Status)

	_, err = svc.PlaceOnce(e.Ctx, "bid-key-1", inv.ID, loan.ID, decimal.RequireFromString("600.00"), e.Today)
	assert.Equal(t, errs.IdempotencyKeyReused, errs.Code(err), "the key with another amount")
	other, err := svc.PlaceOnce(e.Ctx, "bid-key-2", inv.ID, loan.ID, amt, e.Today)
	require.NoError(t, err, "another key is another bid")
	assert.NotEqual(t, first.ID, other.ID)

	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "1000.00", after.Raised.StringFixed(2), "two keys, two bids")
	avail, frozen := e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "1000.00", avail)
	assert.Equal(t, "1000.00", frozen)
}

// A bid the bank refused answers, under its key, the same refusal again:
// the refusal's code is kept with the bid.
func TestRefusedBidUnderKeyAnswersTheRefusal(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")
	// The bank holds less than the ledger says (another channel took it):
	// the platform's check passes, the bank refuses.
	_, err := e.Bank.Freeze(e.Ctx, bank.FreezeRequest{RequestNo: "elsewhere", AccountNo: *inv.CustodyAccountNo, Amount: decimal.RequireFromString("900.00")})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := e.Bank.Unfreeze(e.Ctx, bank.UnfreezeRequest{RequestNo: "elsewhere-release", FreezeRequestNo: "elsewhere"})
		require.NoError(t, err)
	})

	b, err := svc.PlaceOnce(e.Ctx, "refused", inv.ID, loan.ID, decimal.RequireFromString("500.00"), e.Today)
	require.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)
	assert.Equal(t, lending.BidFailed, b.Status)
	again, err := svc.PlaceOnce(e.Ctx, "refused", inv.ID, loan.ID, decimal.RequireFromString("500.00"), e.Today)
	require.Equal(t, errs.InsufficientBalance, errs.Code(err), "the same refusal: %v", err)
	assert.Equal(t, b.ID, again.ID)
	after, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "0.00", after.Raised.StringFixed(2), "the place in the listing was given back once")
}

// GET /v1/me/bids' source: newest first, keyset pages, one investor's only.
func TestListByInvestor(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv, other := e.Investor("C3", "1000.00"), e.Investor("C3", "1000.00")
	var ids []int64
	for _, amt := range []string{"100.00", "200.00", "300.00"} {
		b, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString(amt), e.Today)
		require.NoError(t, err)
		ids = append(ids, b.ID)
	}
	_, err := svc.Place(e.Ctx, other.ID, loan.ID, decimal.RequireFromString("100.00"), e.Today)
	require.NoError(t, err)

	page, err := svc.ListByInvestor(e.Ctx, inv.ID, nil, 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, []int64{ids[2], ids[1]}, []int64{page[0].ID, page[1].ID})
	assert.Equal(t, lending.BidFrozen, page[0].Status)
	rest, err := svc.ListByInvestor(e.Ctx, inv.ID, &page[1].ID, 2)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	assert.Equal(t, ids[0], rest[0].ID)
	assert.Equal(t, "100.00", rest[0].Amount.StringFixed(2))
}

// A bank that holds its answer: the bid does not wait past FreezeWait; it is
// admitted and pending, and the sweep settles it from the bank's record.
func TestUnansweredFreezeLeavesTheBidPending(t *testing.T) {
	e, svc, tc := setup(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	svc.FreezeWait = 200 * time.Millisecond
	borrower := e.User("borrower", "0")
	loan := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	inv := e.Investor("C3", "1000.00")

	e.Sim.SetFaults(sim.FaultConfig{TimeoutAfter: 1, TimeoutDuration: 2 * time.Second})
	b, err := svc.Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("300.00"), e.Today)
	require.NoError(t, err)
	assert.Equal(t, lending.BidPending, b.Status)
	e.Sim.SetFaults(sim.FaultConfig{})
	_, err = svc.SettlePending(e.Ctx, 0, func(context.Context) (time.Time, error) { return e.Today, nil })
	require.NoError(t, err)
	got, err := e.Q.BidGet(e.Ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, lending.BidFrozen, got.Status)
}
