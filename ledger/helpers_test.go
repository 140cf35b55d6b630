package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/ledger"
)

var (
	day  = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	uniq atomic.Int64
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// newUsers inserts n users; ledger user accounts reference them.
func newUsers(tb testing.TB, pool *pgxpool.Pool, n int) []int64 {
	tb.Helper()
	ids := make([]int64, n)
	for i := range ids {
		k := uniq.Add(1)
		err := pool.QueryRow(context.Background(),
			`INSERT INTO users (email, password_hash, role, name, id_number, phone)
			 VALUES ($1, 'x', 'investor', 'test', '', '') RETURNING id`,
			fmt.Sprintf("u%d@example.test", k)).Scan(&ids[i])
		require.NoError(tb, err)
	}
	return ids
}

// post posts e in a transaction of its own, committing only on success.
func post(tb testing.TB, pool *pgxpool.Pool, e ledger.Entry) (bool, error) {
	tb.Helper()
	ctx := context.Background()
	var isNew bool
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		isNew, err = ledger.Post(ctx, tx, e)
		return err
	})
	return isNew, err
}

func mustPost(tb testing.TB, pool *pgxpool.Pool, e ledger.Entry) {
	tb.Helper()
	isNew, err := post(tb, pool, e)
	require.NoError(tb, err)
	require.True(tb, isNew, "entry %s/%d was already recorded", e.RequestNo, e.Leg)
}

// balance reads an account's stored balance; an account never used holds 0.
func balance(tb testing.TB, pool *pgxpool.Pool, code string) decimal.Decimal {
	tb.Helper()
	var b decimal.Decimal
	err := pool.QueryRow(context.Background(),
		`SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE code = $1), 0)`, code).Scan(&b)
	require.NoError(tb, err)
	return b
}

func requireDecimal(tb testing.TB, want string, got decimal.Decimal, msgAndArgs ...any) {
	tb.Helper()
	require.Equal(tb, want, got.StringFixed(2), msgAndArgs...)
}

func count(tb testing.TB, pool *pgxpool.Pool, query string, args ...any) int {
	tb.Helper()
	var n int
	require.NoError(tb, pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// frozenBid records a bid in status frozen by investor on a loan of borrower,
// the business fact the investor's frozen balance must match.
func frozenBid(tb testing.TB, pool *pgxpool.Pool, borrower, investor int64, amount decimal.Decimal) int64 {
	tb.Helper()
	ctx := context.Background()
	var loanID, bidID int64
	require.NoError(tb, pool.QueryRow(ctx,
		`INSERT INTO loans (borrower_id, amount, term_months, repayment_method, purpose, monthly_income,
		                    status, workflow_id, applied_on)
		 VALUES ($1, 10000, 12, 'equal_installment', 'test', 10000, 'listed', $2, $3) RETURNING id`,
		borrower, fmt.Sprintf("loan-%d", uniq.Add(1)), day).Scan(&loanID))
	require.NoError(tb, pool.QueryRow(ctx,
		`INSERT INTO bids (loan_id, investor_id, amount, status) VALUES ($1, $2, $3, 'frozen') RETURNING id`,
		loanID, investor, amount).Scan(&bidID))
	return bidID
}

// loanOf is the ref ("loan:N") of the loan a bid is on.
func loanOf(tb testing.TB, pool *pgxpool.Pool, bidID int64) string {
	tb.Helper()
	var loanID int64
	require.NoError(tb, pool.QueryRow(context.Background(), `SELECT loan_id FROM bids WHERE id = $1`, bidID).Scan(&loanID))
	return fmt.Sprintf("loan:%d", loanID)
}
