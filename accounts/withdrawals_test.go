package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/reconcile"
)

// bankStatus waits until the bank has finished the withdrawal (the simulator
// completes it after its WithdrawalDelay) and answers its status.
func bankStatus(t *testing.T, e *testenv.Env, reqNo string, want bank.Status) {
	t.Helper()
	testwait.Within(10*time.Second).Every(20*time.Millisecond).For(t, reqNo+" to be "+string(want)+" at the bank", func() bool {
		res, err := e.Bank.Query(e.Ctx, reqNo)
		return err == nil && res.Status == want
	})
}

func requireMatched(t *testing.T, e *testenv.Env, day, today time.Time) {
	t.Helper()
	rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, day, today)
	require.NoError(t, err)
	require.Equal(t, reconcile.Matched, rep.Status, "%s: %+v", day.Format(time.DateOnly), rep.Differences)
}

// The bank took the withdrawal but its answer was lost, and the first the
// platform hears is the success callback, sent on the bank's next day. The
// money left on the day the bank took the request (its file says so), so the
// ledger must book it on that day, not on the callback's.
func TestAcceptanceHeardFirstByCallbackIsBookedOnTheBanksDay(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	day, next := e.Today, e.Today.AddDate(0, 0, 1)

	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("200.00"), day, noon)
	require.Equal(t, errs.BankUnavailable, errs.Code(err))
	require.Equal(t, "processing", w.Status)
	e.Sim.SetFaults(sim.FaultConfig{})
	bankStatus(t, e, bank.Withdrawal(w.ID), bank.StatusSucceeded)
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))

	got, _, err := e.Accounts.ApplyCallback(e.Ctx, bank.Callback{RequestNo: bank.Withdrawal(w.ID), Kind: "withdrawal",
		Status: bank.StatusSucceeded, Seq: 1, AccountNo: *u.CustodyAccountNo, Amount: w.Amount, Fee: w.Fee, BusinessDate: next.Format(time.DateOnly)})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", got.Status)
	assert.Equal(t, "800.00", available(t, e, u.ID))
	requireMatched(t, e, day, next.AddDate(0, 0, 1))
	requireMatched(t, e, next, next.AddDate(0, 0, 1))
}

// Neither callback came: the bank paid the withdrawal out and reversed it
// (冲正) the next day. The sweep learns the withdrawal's fate by asking, but
// an answer of "reversed" does not say on which day the money came back;
// the day's reconciliation file does. Booked from it, both days match.
func TestReversalWithoutCallbacksIsBookedFromTheFile(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	day, next := e.Today, e.Today.AddDate(0, 0, 1)
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("300.00"), day, noon)
	require.NoError(t, err)
	reqNo := bank.Withdrawal(w.ID)
	bankStatus(t, e, reqNo, bank.StatusSucceeded)
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	_, err = e.Bank.ReverseWithdrawal(e.Ctx, reqNo)
	require.NoError(t, err)
	later := next.AddDate(0, 0, 1)
	require.NoError(t, e.Bank.SetClock(e.Ctx, later))

	_, err = e.Accounts.SettlePending(e.Ctx, 0)
	require.NoError(t, err)
	requireMatched(t, e, day, later)

	reps, err := reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	for _, rep := range reps {
		assert.Equal(t, reconcile.Matched, rep.Status, "%s: %+v", rep.Date, rep.Differences)
	}
	got, err := e.Q.WithdrawalGet(e.Ctx, w.ID)
	require.NoError(t, err)
	assert.Equal(t, "reversed", got.Status)
	assert.Equal(t, "1000.00", available(t, e, u.ID), "the amount came back; the first withdrawal of the month is free")
	requireMatched(t, e, next, later)
}

// The success callback came and the reversal's never did: the withdrawal is
// no longer processing, so the sweep does not look at it; the file of the
// reversal's day is where the platform learns of it.
func TestDroppedReversalCallbackIsBookedFromTheFile(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	day, next := e.Today, e.Today.AddDate(0, 0, 1)
	_, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("100.00"), day, noon) // the free one
	require.NoError(t, err)
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("400.00"), day, noon)
	require.NoError(t, err)
	require.Equal(t, "3.00", w.Fee.StringFixed(2))
	reqNo := bank.Withdrawal(w.ID)
	bankStatus(t, e, reqNo, bank.StatusSucceeded)
	_, _, err = e.Accounts.ApplyCallback(e.Ctx, bank.Callback{RequestNo: reqNo, Kind: "withdrawal", Status: bank.StatusSucceeded, Seq: 1, AccountNo: *u.CustodyAccountNo,
		Amount: w.Amount, Fee: w.Fee, BusinessDate: day.Format(time.DateOnly)})
	require.NoError(t, err)
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	_, err = e.Bank.ReverseWithdrawal(e.Ctx, reqNo)
	require.NoError(t, err)

	_, err = e.Accounts.SettlePending(e.Ctx, 0)
	require.NoError(t, err)
	got, err := e.Q.WithdrawalGet(e.Ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, "succeeded", got.Status, "the sweep looks only at withdrawals still processing")
	rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, next, next.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, reconcile.Mismatched, rep.Status, "until the file is read, the bank has a movement the ledger lacks")
	require.Len(t, rep.Differences, 1)
	assert.Equal(t, bank.MoveWithdrawalReversal, rep.Differences[0].Kind)

	// Closing a day still open books nothing and stores nothing final.
	reps, err := reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, next)
	require.NoError(t, err)
	for _, r := range reps {
		assert.NotEqual(t, next.Format(time.DateOnly), r.Date)
	}
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, next.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.NotEmpty(t, reps)
	for _, r := range reps {
		assert.Equal(t, reconcile.Matched, r.Status, "%s: %+v", r.Date, r.Differences)
	}
	got, err = e.Q.WithdrawalGet(e.Ctx, w.ID)
	require.NoError(t, err)
	assert.Equal(t, "reversed", got.Status)
	assert.Equal(t, "900.00", available(t, e, u.ID), "1000 − 100 − 400 − 3.00 + 400 + 3.00: the fee comes back too")

	// The callback arriving after all changes nothing.
	_, _, err = e.Accounts.ApplyCallback(e.Ctx, bank.Callback{RequestNo: reqNo, Kind: "withdrawal", Status: bank.StatusReversed, Seq: 2, AccountNo: *u.CustodyAccountNo,
		Amount: w.Amount, Fee: w.Fee, BusinessDate: next.Format(time.DateOnly)})
	require.NoError(t, err)
	assert.Equal(t, "900.00", available(t, e, u.ID))
	runs, err := e.Q.ReconciliationRunLatest(e.Ctx, next)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Matched, runs.Status, "each run's result is kept")
}

// reverse has the bank reverse a withdrawal on its next day and the platform
// hear it by the reversal's callback.
func reverse(t *testing.T, e *testenv.Env, u dbq.User, w accounts.Withdrawal, on time.Time) {
	t.Helper()
	reqNo := bank.Withdrawal(w.ID)
	bankStatus(t, e, reqNo, bank.StatusSucceeded)
	require.NoError(t, e.Bank.SetClock(e.Ctx, on))
	_, err := e.Bank.ReverseWithdrawal(e.Ctx, reqNo)
	require.NoError(t, err)
	got, _, err := e.Accounts.ApplyCallback(e.Ctx, bank.Callback{RequestNo: reqNo, Kind: "withdrawal", Status: bank.StatusReversed, Seq: 2,
		AccountNo: *u.CustodyAccountNo, Amount: w.Amount, Fee: w.Fee, BusinessDate: on.Format(time.DateOnly)})
	require.NoError(t, err)
	require.Equal(t, "reversed", got.Status)
}

// docs/rules.md "Withdrawal route": a reversed withdrawal (冲正) returns the
// amount and the fee, at the bank as in the ledger, and a reversed free
// withdrawal gives the month's free one back; a reversed paid one does not
// (the free one was taken by another).
func TestReversalReturnsTheFeeAndTheFreeWithdrawal(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "5000.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	w1, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("500.00"), monday, noon)
	require.NoError(t, err)
	w2, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("1000.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, []string{"0.00", "3.00"}, []string{w1.Fee.StringFixed(2), w2.Fee.StringFixed(2)})
	assert.Equal(t, "3497.00", available(t, e, u.ID))

	reverse(t, e, u, w2, monday.AddDate(0, 0, 1))
	assert.Equal(t, "4500.00", available(t, e, u.ID), "3497.00 + 1000.00 + 3.00")
	w3, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("100.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, "3.00", w3.Fee.StringFixed(2), "the free one is still w1's")

	reverse(t, e, u, w1, monday.AddDate(0, 0, 2))
	assert.Equal(t, "4897.00", available(t, e, u.ID), "4500.00 − 103.00 + 500.00; w1 had no fee")
	w4, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("200.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, "0.00", w4.Fee.StringFixed(2), "w1's reversal gave the free one back")
	w5, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("50.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, "3.00", w5.Fee.StringFixed(2))
	assert.Equal(t, "4644.00", available(t, e, u.ID), "4897.00 − 200.00 − 53.00")

	// The bank agrees: the user's account, and P-FEE holding w3's and w5's fees only.
	bankAvail, _ := e.Balance(*u.CustodyAccountNo)
	assert.Equal(t, "4644.00", bankAvail)
	fee, _ := e.Balance(bank.AccountFee)
	assert.Equal(t, "6.00", fee)
	requireMatched(t, e, monday.AddDate(0, 0, 1), monday.AddDate(0, 0, 3))
	requireMatched(t, e, monday.AddDate(0, 0, 2), monday.AddDate(0, 0, 3))
}
