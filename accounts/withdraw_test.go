package accounts_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/ledger"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// noon, Asia/Shanghai: only its time of day counts; the day is the business date's.
var noon = time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)

func available(t *testing.T, e *testenv.Env, userID int64) string {
	sum, err := ledger.AccountSummary(e.Ctx, e.Pool, userID)
	require.NoError(t, err)
	return sum.Available.StringFixed(2)
}

// docs/rules.md "Withdrawal fee": the first of the month is free, then 3.00 up to
// 1,000.00 and 0.3 % above; the fee comes on top of the amount.
func TestWithdrawalFees(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "20000.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ amount, fee, left string }{
		{"1000.00", "0.00", "19000.00"},  // first in February: free
		{"1000.00", "3.00", "17997.00"},  // 3.00 up to 1,000.00
		{"12345.67", "37.04", "5614.29"}, // round(12345.67 × 0.003) = round(37.03701)
	} {
		w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec(tc.amount), monday, noon)
		require.NoError(t, err)
		assert.Equal(t, tc.fee, w.Fee.StringFixed(2))
		assert.Equal(t, "super_ebank", w.Route)
		assert.Equal(t, tc.left, available(t, e, u.ID))
	}
	bankAvail, _ := e.Balance(*u.CustodyAccountNo)
	assert.Equal(t, "5614.29", bankAvail, "the bank took the same amounts")
	fee, _ := e.Balance(bank.AccountFee)
	assert.Equal(t, "40.04", fee)

	// A new month: free again.
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("100.00"), monday.AddDate(0, 1, 0), noon)
	require.NoError(t, err)
	assert.Equal(t, "0.00", w.Fee.StringFixed(2))
}

func TestWithdrawalRefusalsReachNoBank(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "60000.00")
	saturday := time.Date(2026, 2, 7, 0, 0, 0, 0, time.UTC)
	_, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("50000.01"), saturday, noon)
	assert.Equal(t, errs.WithdrawalWindow, errs.Code(err), "large-value only on workdays")
	monday := saturday.AddDate(0, 0, 2)
	_, err = e.Accounts.Withdraw(e.Ctx, u.ID, dec("50000.01"), monday, time.Date(2026, 1, 1, 18, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	assert.Equal(t, errs.WithdrawalWindow, errs.Code(err), "large-value closes at 17:15")
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("50000.01"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, "large_value", w.Route)

	// 9,999.99 left; a second withdrawal this month pays round(9990.00 × 0.3 %) = 29.97,
	// and 9,990.00 + 29.97 is more than is there.
	_, err = e.Accounts.Withdraw(e.Ctx, u.ID, dec("9990.00"), monday, noon)
	assert.Equal(t, errs.InsufficientBalance, errs.Code(err))
	bankAvail, _ := e.Balance(*u.CustodyAccountNo)
	assert.Equal(t, "9999.99", bankAvail, "a refused withdrawal never reached the bank")
}

// Results may come twice, late or out of order: the end state is the same and
// each movement is booked once. A reversal (冲正) returns the amount and the fee.
func TestWithdrawalResultsApplyOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "5000.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	_, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("500.00"), monday, noon) // the free one
	require.NoError(t, err)
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("1000.00"), monday, noon)
	require.NoError(t, err)
	require.Equal(t, "processing", w.Status)
	cb := bank.Callback{RequestNo: bank.Withdrawal(w.ID), Kind: "withdrawal", AccountNo: *u.CustodyAccountNo, Amount: w.Amount, Fee: w.Fee, BusinessDate: "2026-02-03"}

	reversed := cb
	reversed.Status, reversed.Seq = bank.StatusReversed, 2
	succeeded := cb
	succeeded.Status, succeeded.Seq = bank.StatusSucceeded, 1
	for _, c := range []bank.Callback{reversed, succeeded, reversed, succeeded} {
		got, _, err := e.Accounts.ApplyCallback(e.Ctx, c)
		require.NoError(t, err)
		assert.Equal(t, "reversed", got.Status)
	}
	assert.Equal(t, "4500.00", available(t, e, u.ID), "5000 − 500 − 1000 − 3.00 fee + 1000 and 3.00 back")

	wrong := succeeded
	wrong.Amount = dec("1000.01")
	_, _, err = e.Accounts.ApplyCallback(e.Ctx, wrong)
	assert.Equal(t, errs.Conflict, errs.Code(err), "an amount that differs is never booked")
	_, _, err = e.Accounts.ApplyCallback(e.Ctx, bank.Callback{RequestNo: "withdrawal-999999", Status: bank.StatusSucceeded})
	assert.Error(t, err)
}

// A withdrawal whose callback never came is settled by the sweep.
func TestSettlePendingWithdrawal(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "800.00")
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("300.00"), time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC), noon)
	require.NoError(t, err)
	require.Equal(t, "processing", w.Status)
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "the withdrawal to succeed", func() bool {
		_, err := e.Accounts.SettlePending(e.Ctx, 0)
		require.NoError(t, err)
		got, err := e.Q.WithdrawalGet(e.Ctx, w.ID)
		require.NoError(t, err)
		return got.Status == "succeeded"
	})
	assert.Equal(t, "500.00", available(t, e, u.ID))
}
