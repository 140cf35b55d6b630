package disclosure_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/ledger"
)

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestRecordOncePerDate: a date's snapshot waits until no loan has an event
// due on or before it, is written once with the day's figures to the cent,
// and is never recomputed: a second Record, from this worker or another,
// writes nothing even when the figures have moved since.
//
// One loan of 3000.00 disbursed, repaying: installment 1 (1000.00 + 30.00)
// due 2026-02-10 unpaid, 2 and 3 not yet due. On 2026-03-20 installment 1
// is 38 days past due: M2 1030.00; outstanding principal 3000.00; risk
// reserve 60.00.
func TestRecordOncePerDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO users (email, password_hash, role, name, id_number, phone) VALUES ('b@x', 'x', 'borrower', '张三', '', '')`)
	exec(`INSERT INTO loans (borrower_id, amount, term_months, repayment_method, purpose, monthly_income, status, workflow_id, applied_on, disbursed_on, next_event_on)
		VALUES (1, 3000.00, 3, 'equal_installment', 'p', 1.00, 'overdue', 'loan-1', '2026-01-01', '2026-01-10', '2026-03-20')`)
	exec(`INSERT INTO installments (loan_id, no, due_date, principal, interest, status) VALUES
		(1, 1, '2026-02-10', 1000.00, 30.00, 'overdue'), (1, 2, '2026-03-10', 1000.00, 20.00, 'pending'), (1, 3, '2026-04-10', 1000.00, 10.00, 'pending')`)
	exec(`UPDATE installments SET due_date = '2026-04-10' WHERE loan_id = 1 AND no = 2`) // only installment 1 is late
	// The borrower's recharge, then 60.00 of it to the risk reserve, as the ledger books them.
	post := func(e ledger.Entry) {
		t.Helper()
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { _, err := ledger.Post(ctx, tx, e); return err }))
	}
	post(ledger.Recharge("recharge-1", 1, decimal.RequireFromString("100.00"), date("2026-01-10")))
	post(ledger.Transfer("loan-1-disburse-1", 0, "risk_reserve", ledger.UserAvailable(1), ledger.PlatformRiskReserve, decimal.RequireFromString("60.00"), "loan:1", date("2026-01-10")))
	day := date("2026-03-20")

	wrote, err := disclosure.Record(ctx, q, day)
	require.NoError(t, err)
	assert.False(t, wrote, "the loan has not handled its event of the day yet")

	exec(`UPDATE loans SET next_event_on = '2026-04-10'`)
	wrote, err = disclosure.Record(ctx, q, day)
	require.NoError(t, err)
	assert.True(t, wrote)

	// The figures move (a payment); the day's snapshot stays what it was.
	exec(`UPDATE installments SET status = 'paid', paid_principal = 1000.00, paid_interest = 30.00 WHERE loan_id = 1 AND no = 1`)
	post(ledger.Transfer("loan-1-compensate-1", 0, "compensation", ledger.PlatformRiskReserve, ledger.UserAvailable(1), decimal.RequireFromString("60.00"), "loan:1", day))
	wrote, err = disclosure.Record(ctx, q, day)
	require.NoError(t, err)
	assert.False(t, wrote, "a date is written once")

	hist, err := disclosure.History(ctx, q, date("2026-01-01"), date("2026-12-31"))
	require.NoError(t, err)
	require.Len(t, hist, 1)
	h := hist[0]
	assert.Equal(t, day, h.AsOf)
	got := map[string]string{"outstanding": h.OutstandingPrincipal.StringFixed(2), "reserve": h.RiskReserveBalance.StringFixed(2),
		"volume": h.CumulativeVolume.StringFixed(2), "written_off": h.WrittenOff.StringFixed(2), "overdue": h.Overdue().StringFixed(2)}
	for _, b := range disclosure.Buckets {
		got[b] = h.OverdueByBucket[b].StringFixed(2)
	}
	assert.Equal(t, map[string]string{"outstanding": "3000.00", "reserve": "60.00", "volume": "3000.00", "written_off": "0.00",
		"overdue": "1030.00", "M1": "0.00", "M2": "1030.00", "M3": "0.00", "M3+": "0.00"}, got)
	assert.Equal(t, int64(1), h.Borrowers)
	assert.Equal(t, "0.3433", h.Rate(h.OverdueByBucket["M2"]).StringFixed(4), "1030.00 / 3000.00")

	// Today's live figures have moved on.
	now, err := disclosure.Compute(ctx, q, day)
	require.NoError(t, err)
	assert.True(t, now.Overdue().IsZero())
	assert.Equal(t, "2000.00", now.OutstandingPrincipal.StringFixed(2))
	assert.Equal(t, "0.00", now.RiskReserveBalance.StringFixed(2))

	// A later date gets its own row.
	wrote, err = disclosure.Record(ctx, q, date("2026-03-21"))
	require.NoError(t, err)
	assert.True(t, wrote)
	hist, err = disclosure.History(ctx, q, date("2026-01-01"), date("2026-12-31"))
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, []time.Time{day, date("2026-03-21")}, []time.Time{hist[0].AsOf, hist[1].AsOf}, "oldest first")
}

// TestRateWithNothingOutstanding: a rate of an empty book is 0, not a division by zero.
func TestRateWithNothingOutstanding(t *testing.T) {
	f := disclosure.Figures{OutstandingPrincipal: decimal.Zero}
	assert.True(t, f.Rate(decimal.NewFromInt(5)).IsZero())
	assert.Equal(t, []string{"M1", "M2", "M3", "M3+"}, disclosure.Buckets)
}

// TestTransfersCounted: the figures count the claims sold by debt transfer on
// or before the date, the prices their buyers paid (the volume) and the fees
// their sellers paid, and a date's snapshot keeps them. A listing lapsed,
// cancelled or still open counts nothing; a sale after the date is not yet
// in it. The figures are docs/transfer.md's worked example: 5,958.68 with a
// fee of 60.00 on 20 March, 3,953.53 with 20.11 on 20 May.
func TestTransfersCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO users (email, password_hash, role, name, id_number, phone) VALUES
		('b@x', 'x', 'borrower', '张借款', '', ''),
		('a@x', 'x', 'investor', '甲出借', '', ''),
		('c@x', 'x', 'investor', '丙受让', '', ''),
		('d@x', 'x', 'investor', '丁受让', '', '')`)
	exec(`INSERT INTO loans (borrower_id, amount, term_months, repayment_method, purpose, monthly_income, status, workflow_id, applied_on, disbursed_on, next_event_on)
		VALUES (1, 12000.00, 6, 'equal_installment', 'p', 1.00, 'repaying', 'loan-1', '2026-02-20', '2026-03-02', '2026-06-02')`)
	exec(`INSERT INTO bids (loan_id, investor_id, amount, status) VALUES (1, 2, 6000.00, 'disbursed')`)
	exec(`INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, held_to, status) VALUES
		(1, 1, 2, 'bid', 6000.00, 6000.00, '2026-03-02', '2026-03-20', 'transferred'),
		(1, 1, 3, 'transfer', 6000.00, 5958.68, '2026-03-20', '2026-05-20', 'transferred'),
		(1, 1, 4, 'transfer', 4021.56, 3953.53, '2026-05-20', NULL, 'held')`)
	exec(`INSERT INTO transfers (loan_id, bid_id, holding_id, seller_id, discount_rate, status, listed_on, expires_on, offer_seq,
			buyer_id, buyer_holding_id, principal, accrued_interest, price, fee, closed_on) VALUES
		(1, 1, 1, 2, 0.01, 'sold', '2026-03-20', '2026-03-28', 1, 3, 2, 6000.00, 18.87, 5958.68, 60.00, '2026-03-20'),
		(1, 1, 2, 3, 0.02, 'sold', '2026-05-20', '2026-05-28', 2, 4, 3, 4021.56, 12.65, 3953.53, 20.11, '2026-05-20'),
		(1, 1, 3, 4, 0.00, 'lapsed', '2026-05-21', '2026-05-28', 3, NULL, NULL, NULL, NULL, NULL, NULL, '2026-05-28'),
		(1, 1, 3, 4, 0.00, 'cancelled', '2026-06-03', '2026-06-27', 4, NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-04'),
		(1, 1, 3, 4, 0.01, 'listed', '2026-06-05', '2026-06-27', 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)

	figures := func(day string) []any {
		f, err := disclosure.Compute(ctx, q, date(day))
		require.NoError(t, err)
		return []any{f.TransfersSold, f.TransferVolume.StringFixed(2), f.TransferFees.StringFixed(2)}
	}
	assert.Equal(t, []any{int64(0), "0.00", "0.00"}, figures("2026-03-19"))
	assert.Equal(t, []any{int64(1), "5958.68", "60.00"}, figures("2026-03-20"))
	assert.Equal(t, []any{int64(2), "9912.21", "80.11"}, figures("2026-06-10"), "the lapsed, cancelled and open listings count nothing")

	wrote, err := disclosure.Record(ctx, q, date("2026-05-20"))
	require.NoError(t, err)
	require.True(t, wrote)
	hist, err := disclosure.History(ctx, q, date("2026-05-20"), date("2026-05-20"))
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, []any{int64(2), "9912.21", "80.11"},
		[]any{hist[0].TransfersSold, hist[0].TransferVolume.StringFixed(2), hist[0].TransferFees.StringFixed(2)}, "the snapshot keeps them")
}
