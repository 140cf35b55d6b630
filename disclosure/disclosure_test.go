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
	exec(`INSERT INTO users (email, password_hash, role, name, id_number, phone) VALUES ('b@x', 'x', 'borrower', '张三', '110105198501010011', '13800000001')`)
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
