package bidding

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// One booking group: bids on an open and on a closed listing, with and
// without a key, and one the settlement sweep froze first. Each ends frozen
// with its listing, the answer is stored only under a key whose bid this
// group froze on a listing still open, and no freeze is booked twice.
func TestBookingGroupMarksEachBidOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	ctx := e.Ctx
	borrower := e.User(lending.RoleBorrower, "0")
	open := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	closed := e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	_, err := e.Pool.Exec(ctx, `UPDATE loans SET status = 'expired' WHERE id = $1`, closed.ID)
	require.NoError(t, err)

	amount := decimal.RequireFromString("100.00")
	newBooking := func(loan dbq.Loan, withKey bool) *booking {
		inv := e.Investor("C3", "1000.00")
		var bid dbq.Bid
		require.NoError(t, e.Pool.QueryRow(ctx,
			`INSERT INTO bids (loan_id, investor_id, amount, status) VALUES ($1, $2, $3, 'pending') RETURNING id`,
			loan.ID, inv.ID, amount).Scan(&bid.ID))
		bid.LoanID, bid.InvestorID, bid.Amount, bid.Status = loan.ID, inv.ID, amount, lending.BidPending
		b := &booking{orig: bid, entry: ledger.Freeze("freeze-bid-"+itoa(bid.ID), inv.ID, amount, "bid:"+itoa(bid.ID), e.Today)}
		if withKey {
			_, err := e.Q.IdempotencyKeyClaim(ctx, dbq.IdempotencyKeyClaimParams{UserID: inv.ID, Key: "k-" + itoa(bid.ID),
				Method: "POST", Path: "/v1/loans/bids", RequestHash: "h", StaleSeconds: 600})
			require.NoError(t, err)
			b.keyOwner, b.key, b.code, b.answer = inv.ID, "k-"+itoa(bid.ID), 201, []byte(`{"id":`+itoa(bid.ID)+`}`)
		}
		return b
	}
	keyed, plain, onClosed, swept := newBooking(open, true), newBooking(open, false), newBooking(closed, true), newBooking(open, true)

	// The sweep booked this freeze first, in a transaction of its own and
	// with no request's answer to store.
	sweep := &booking{orig: swept.orig, entry: swept.entry}
	require.NoError(t, pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error { return bookIn(ctx, tx, []*booking{sweep}) }))
	require.Equal(t, lending.BidFrozen, sweep.bid.Status)

	group := []*booking{keyed, plain, onClosed, swept}
	require.NoError(t, pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error { return bookIn(ctx, tx, group) }))

	stored := map[*booking]bool{keyed: true, plain: false, onClosed: false, swept: false}
	for _, b := range group {
		loan := open
		if b == onClosed {
			loan = closed
		}
		assert.Equal(t, lending.BidFrozen, b.bid.Status, "bid %d", b.orig.ID)
		assert.Equal(t, b.orig.ID, b.bid.ID)
		assert.Equal(t, loan.ID, b.loan.ID, "bid %d", b.orig.ID)
		assert.Equal(t, loan.WorkflowID, b.loan.WorkflowID)
		assert.Equal(t, stored[b], b.loan.AnswerStored, "bid %d", b.orig.ID)
		got, err := e.Q.BidGet(ctx, b.orig.ID)
		require.NoError(t, err)
		assert.Equal(t, lending.BidFrozen, got.Status)
		var frozen decimal.Decimal
		require.NoError(t, e.Pool.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE code = $1`, ledger.UserFrozen(b.orig.InvestorID)).Scan(&frozen))
		assert.Equal(t, "100.00", frozen.StringFixed(2), "booked once")
		if b.key == "" {
			continue
		}
		k, err := e.Q.IdempotencyKeyGet(ctx, dbq.IdempotencyKeyGetParams{UserID: b.keyOwner, Key: b.key})
		require.NoError(t, err)
		if stored[b] {
			require.NotNil(t, k.StatusCode)
			assert.Equal(t, int32(201), *k.StatusCode)
			assert.Equal(t, b.answer, k.Response)
		} else {
			assert.Nil(t, k.StatusCode, "bid %d: no answer stored", b.orig.ID)
		}
	}
	assert.Equal(t, open.Status, keyed.loan.Status)
	assert.Equal(t, lending.StatusExpired, onClosed.loan.Status)
}
