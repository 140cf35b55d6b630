package recovery_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/recovery"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// written off: a loan whose holders lost the given amounts (two investors,
// then the reserve), and an ops user to record recoveries.
type writtenOff struct {
	e    *testenv.Env
	loan dbq.Loan
	ops  dbq.User
}

func newWrittenOff(t *testing.T, investorA, investorB, reserve string) writtenOff {
	t.Parallel()
	e := testenv.New(t)
	loan := e.ListedLoan(e.User(lending.RoleBorrower, "0"), "12000.00", "A", "0.065", 3, false)
	_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET status = $2 WHERE id = $1`, loan.ID, lending.StatusWrittenOff)
	require.NoError(t, err)
	a, b := e.Investor("C3", "0"), e.Investor("C3", "0")
	for _, l := range []struct {
		key, holder string
		user        *int64
		amount      string
	}{{"bid:1", "investor", &a.ID, investorA}, {"bid:2", "investor", &b.ID, investorB}, {"reserve", "reserve", nil, reserve}} {
		require.NoError(t, e.Q.WriteOffLossInsert(e.Ctx, dbq.WriteOffLossInsertParams{LoanID: loan.ID, HolderKey: l.key, Holder: l.holder, UserID: l.user, Amount: d(l.amount)}))
	}
	return writtenOff{e: e, loan: loan, ops: e.User(lending.RoleOps, "")}
}

// admit records a recovery and reserves it in one transaction, as the API does.
func (w writtenOff) admit(amount string) (dbq.Recovery, []recovery.Share, error) {
	var rec dbq.Recovery
	var shares []recovery.Share
	err := pgx.BeginFunc(w.e.Ctx, w.e.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if rec, err = q.RecoveryInsert(w.e.Ctx, dbq.RecoveryInsertParams{LoanID: w.loan.ID, Amount: d(amount), Note: "collected",
			OpsUserID: w.ops.ID, BusinessDate: w.e.Today}); err != nil {
			return err
		}
		shares, err = recovery.Reserve(w.e.Ctx, q, rec)
		return err
	})
	return rec, shares, err
}

func amounts(shares []recovery.Share) []string {
	out := make([]string, len(shares))
	for i, s := range shares {
		out[i] = s.Holder + " " + s.Amount.StringFixed(2)
	}
	return out
}

// losses reads each holder's recovered and reserved amounts.
func (w writtenOff) losses(t *testing.T) []string {
	rows, err := w.e.Q.WriteOffLossList(w.e.Ctx, w.loan.ID)
	require.NoError(t, err)
	var out []string
	for _, l := range rows {
		out = append(out, fmt.Sprintf("%s %s+%s", l.HolderKey, l.Recovered.StringFixed(2), l.Reserved.StringFixed(2)))
	}
	return out
}

// A recovery admitted while another is still in flight is shared as it
// would be once the first were carried out: with losses 6,006.27 / 6,006.25
// / 485.35 (docs/collection.md "Recoveries"), 300.00 is 144.18 / 144.17 /
// 11.65, and 200.00 then 96.12 / 96.11 / 7.77 whether the 300.00 has been
// booked or is only reserved. Booking moves a share from reserved to
// recovered; releasing gives it back, once.
func TestReservedSharesAreTheSharesOfRecoveriesOneAfterAnother(t *testing.T) {
	w := newWrittenOff(t, "6006.27", "6006.25", "485.35")
	first, shares1, err := w.admit("300.00")
	require.NoError(t, err)
	assert.Equal(t, []string{"investor 144.18", "investor 144.17", "reserve 11.65"}, amounts(shares1))
	second, shares2, err := w.admit("200.00")
	require.NoError(t, err)
	assert.Equal(t, []string{"investor 96.12", "investor 96.11", "reserve 7.77"}, amounts(shares2))
	assert.Equal(t, []string{"bid:1 0.00+240.30", "bid:2 0.00+240.28", "reserve 0.00+19.42"}, w.losses(t))

	stored, err := recovery.Shares(w.e.Ctx, w.e.Q, first.ID)
	require.NoError(t, err)
	assert.Equal(t, amounts(shares1), amounts(stored), "the shares are stored with the recovery")
	require.NotNil(t, stored[0].CustodyAccountNo, "an investor's share carries its custody account")
	assert.Nil(t, stored[2].CustodyAccountNo, "the reserve has none")
	require.NoError(t, recovery.Book(w.e.Ctx, w.e.Q, w.loan.ID, stored))
	assert.Equal(t, []string{"bid:1 144.18+96.12", "bid:2 144.17+96.11", "reserve 11.65+7.77"}, w.losses(t))

	for range 2 {
		require.NoError(t, recovery.Release(w.e.Ctx, w.e.Q, second.ID))
		assert.Equal(t, []string{"bid:1 144.18+0.00", "bid:2 144.17+0.00", "reserve 11.65+0.00"}, w.losses(t), "released once")
	}
	none, err := recovery.Shares(w.e.Ctx, w.e.Q, second.ID)
	require.NoError(t, err)
	assert.Empty(t, none)
}

// Twelve recoveries of 1,000.00 admitted at once on 6,412.61 owed: exactly
// six are admitted, the other six are refused validation_failed on amount,
// and no holder has more recovered and reserved than it lost.
func TestRecoveriesThatMeetNeverReserveMoreThanIsOwed(t *testing.T) {
	w := newWrittenOff(t, "4000.00", "2000.00", "412.61")
	var wg sync.WaitGroup
	errsOut := make([]error, 12)
	for i := range errsOut {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errsOut[i] = w.admit("1000.00")
		}()
	}
	wg.Wait()
	admitted, refused := 0, 0
	for _, err := range errsOut {
		var e *errs.Error
		switch {
		case err == nil:
			admitted++
		case errors.As(err, &e) && e.Code == errs.ValidationFailed && e.Field == "amount":
			refused++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	assert.Equal(t, 6, admitted)
	assert.Equal(t, 6, refused)
	var reserved decimal.Decimal
	var over int
	require.NoError(t, w.e.Pool.QueryRow(w.e.Ctx, `SELECT sum(reserved), count(*) FILTER (WHERE recovered + reserved > amount)
		FROM write_off_losses WHERE loan_id = $1`, w.loan.ID).Scan(&reserved, &over))
	assert.Equal(t, "6000.00", reserved.StringFixed(2))
	assert.Zero(t, over)
	_, _, err := w.admit("412.62")
	assert.ErrorContains(t, err, "more than the 412.61 the holders have still to recover")
}
