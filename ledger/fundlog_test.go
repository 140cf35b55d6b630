package ledger_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/ledger"
)

func TestFundLogPagesNewestFirstWithAfterBalances(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 3)
	inv, borrower, other := users[0], users[1], users[2]
	ctx := context.Background()

	mustPost(t, pool, ledger.Recharge("rc-1", inv, d("1000.00"), day))
	mustPost(t, pool, ledger.Recharge("rc-other", other, d("5.00"), day)) // not inv's: absent from inv's log
	mustPost(t, pool, ledger.Freeze("fz-1", inv, d("300.00"), "bid:1", day))
	mustPost(t, pool, ledger.Freeze("fz-2", inv, d("200.00"), "bid:2", day))
	mustPost(t, pool, ledger.Unfreeze("uf-2", inv, d("200.00"), "bid:2", day))
	// Disbursement spends the first freeze: it touches only inv's frozen balance.
	loan := loanOf(t, pool, frozenBid(t, pool, borrower, inv, d("300.00")))
	mustPost(t, pool, ledger.Transfer("db-1", 0, ledger.TypeDisbursement, ledger.UserFrozen(inv), ledger.UserAvailable(borrower), d("300.00"), loan, day))
	mustPost(t, pool, ledger.Withdrawal("wd-1", inv, d("100.00"), d("3.00"), day))

	// Counterparts as the reader reads them (ledger/counterpart.go).
	// The withdrawal is two lines, its amount and its fee, each with the
	// balance after it; they share the entry's id.
	type line struct{ typ, kind, amount, available, frozen, counterpart, ref string }
	want := []line{
		{ledger.TypeWithdrawal, ledger.KindFee, "-3.00", "597.00", "0.00", "platform fee account", ""},
		{ledger.TypeWithdrawal, ledger.TypeWithdrawal, "-100.00", "600.00", "0.00", "bank card", ""},
		{ledger.TypeDisbursement, ledger.TypeDisbursement, "-300.00", "700.00", "0.00", "borrower of " + strings.Replace(loan, ":", " ", 1), loan},
		{ledger.TypeUnfreeze, ledger.TypeUnfreeze, "200.00", "700.00", "300.00", "your frozen balance", "bid:2"},
		{ledger.TypeFreeze, ledger.TypeFreeze, "-200.00", "500.00", "500.00", "your frozen balance", "bid:2"},
		{ledger.TypeFreeze, ledger.TypeFreeze, "-300.00", "700.00", "300.00", "your frozen balance", "bid:1"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "1000.00", "1000.00", "0.00", "bank card", ""},
	}

	var got []line
	var ids []int64
	cursor := int64(0)
	pages := 0
	for {
		items, next, err := ledger.FundLog(ctx, pool, inv, cursor, 4)
		require.NoError(t, err)
		pages++
		for _, it := range items {
			got = append(got, line{it.Type, it.Kind, it.Amount.StringFixed(2), it.AvailableAfter.StringFixed(2),
				it.FrozenAfter.StringFixed(2), it.Counterpart, it.Ref})
			ids = append(ids, it.ID)
			assert.False(t, it.At.IsZero())
			assert.True(t, it.BusinessDate.Equal(day), "business date %v", it.BusinessDate)
		}
		if next == 0 {
			break
		}
		assert.Equal(t, ids[len(ids)-1], next, "the cursor is the last item's id")
		cursor = next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 2, pages)
	assert.Equal(t, ids[0], ids[1], "the withdrawal's two lines are one entry")
	for i := 2; i < len(ids); i++ {
		assert.Greater(t, ids[i-1], ids[i], "newest first")
	}

	// A page boundary in the middle: the after-balances of a later page's first
	// item still come from before that page.
	items, next, err := ledger.FundLog(ctx, pool, inv, ids[2], 1)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, ids[3], items[0].ID)
	assert.Equal(t, "700.00", items[0].AvailableAfter.StringFixed(2))
	assert.Equal(t, "300.00", items[0].FrozenAfter.StringFixed(2))
	assert.Equal(t, ids[3], next)

	// An exact last page says there is no further page: the limit counts
	// entries, and the withdrawal's lines come together.
	items, next, err = ledger.FundLog(ctx, pool, inv, 0, len(want)-1)
	require.NoError(t, err)
	assert.Len(t, items, len(want))
	assert.Zero(t, next)

	// The borrower sees the disbursement as money arriving.
	items, _, err = ledger.FundLog(ctx, pool, borrower, 0, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "300.00", items[0].Amount.StringFixed(2))
	assert.Equal(t, "an investor of "+strings.Replace(loan, ":", " ", 1), items[0].Counterpart)

	// A user the ledger has never seen has an empty log.
	stranger := newUsers(t, pool, 1)[0]
	items, next, err = ledger.FundLog(ctx, pool, stranger, 0, 10)
	require.NoError(t, err)
	assert.Empty(t, items)
	assert.Zero(t, next)
}

func TestAccountSummary(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 2)
	inv, borrower := users[0], users[1]
	ctx := context.Background()

	mustPost(t, pool, ledger.Recharge("rc-1", inv, d("1000.00"), day))
	mustPost(t, pool, ledger.Freeze("fz-1", inv, d("100.00"), "bid:1", day))

	// Two claims: one on a repaying loan, one on a written-off loan.
	live := frozenBid(t, pool, borrower, inv, d("100.00"))
	dead := frozenBid(t, pool, borrower, inv, d("100.00"))
	for _, bid := range []int64{live, dead} {
		_, err := pool.Exec(ctx, `
			INSERT INTO installments (loan_id, no, due_date, principal, interest, status)
			SELECT loan_id, n, $2::date, 500.00, 50.00, 'pending' FROM bids, generate_series(1, 2) n WHERE id = $1`, bid, day)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `
			INSERT INTO installment_shares (loan_id, no, bid_id, investor_id, principal, interest, received_principal, received_interest)
			SELECT loan_id, n, id, investor_id, 50.01, 5.55, CASE n WHEN 1 THEN 50.01 ELSE 0 END, CASE n WHEN 1 THEN 5.55 ELSE 1.00 END
			FROM bids, generate_series(1, 2) n WHERE id = $1`, bid)
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `UPDATE loans SET status = 'written_off' WHERE id = (SELECT loan_id FROM bids WHERE id = $1)`, dead)
	require.NoError(t, err)

	s, err := ledger.AccountSummary(ctx, pool, inv)
	require.NoError(t, err)
	requireDecimal(t, "900.00", s.Available)
	requireDecimal(t, "100.00", s.Frozen)
	requireDecimal(t, "50.01", s.PendingPrincipal)
	requireDecimal(t, "4.55", s.PendingInterest)
	requireDecimal(t, "1054.56", s.TotalAssets)

	s, err = ledger.AccountSummary(ctx, pool, newUsers(t, pool, 1)[0])
	require.NoError(t, err)
	assert.True(t, s.TotalAssets.IsZero())
}
