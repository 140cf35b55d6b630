package accounts_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
)

// settleAll waits until the bank has finished every withdrawal and the
// platform has heard it, so the environment's end-of-test checks see a
// quiet bank.
func settleAll(t *testing.T, e *testenv.Env) {
	t.Helper()
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "every withdrawal settled", func() bool {
		_, err := e.Accounts.SettlePending(e.Ctx, 0)
		require.NoError(t, err)
		var n int
		require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM withdrawals WHERE status = 'processing'`).Scan(&n))
		return n == 0
	})
}

// The figure: four 600.00 withdrawals at once from 1,000.00. The
// platform accepts one and refuses three (insufficient_balance) before the
// bank is asked: the check counts the first, still unanswered, under the
// user's lock. Only one withdrawal row exists, so the bank had one request.
func TestConcurrentWithdrawalsCannotOverspend(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)

	e.Sim.SetFaults(sim.FaultConfig{Latency: 1, LatencyDuration: 150 * time.Millisecond})
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, results[i] = e.Accounts.Withdraw(e.Ctx, u.ID, dec("600.00"), monday, noon)
		}()
	}
	close(start)
	wg.Wait()
	e.Sim.SetFaults(sim.FaultConfig{})

	accepted, codes := 0, map[string]int{}
	for _, err := range results {
		if err == nil {
			accepted++
		} else {
			codes[errs.Code(err)]++
		}
	}
	t.Logf("4 concurrent 600.00 withdrawals from 1,000.00: %d accepted, refused %v", accepted, codes)
	assert.Equal(t, 1, accepted)
	assert.Equal(t, map[string]int{errs.InsufficientBalance: 3}, codes)
	var rows int
	require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM withdrawals WHERE user_id = $1`, u.ID).Scan(&rows))
	assert.Equal(t, 1, rows, "refused before the bank was asked: no row, no request number")
	settleAll(t, e)
	assert.Equal(t, "400.00", available(t, e, u.ID))
	bankAvail, _ := e.Balance(*u.CustodyAccountNo)
	assert.Equal(t, "400.00", bankAvail)
}

// A withdrawal under a key, with the bank doing the work and answering 500:
// sent again, the same withdrawal, never a second; another amount under the
// key is idempotency_key_reused.
func TestWithdrawalUnderKeyIsMadeOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)

	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	first, err := e.Accounts.WithdrawOnce(e.Ctx, "wd-key", u.ID, dec("300.00"), monday, noon)
	require.Equal(t, errs.BankUnavailable, errs.Code(err), "%v", err)
	require.NotZero(t, first.ID)
	again, err := e.Accounts.WithdrawOnce(e.Ctx, "wd-key", u.ID, dec("300.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	e.Sim.SetFaults(sim.FaultConfig{})
	_, err = e.Accounts.WithdrawOnce(e.Ctx, "wd-key", u.ID, dec("301.00"), monday, noon)
	assert.Equal(t, errs.IdempotencyKeyReused, errs.Code(err))

	settleAll(t, e)
	settled, err := e.Accounts.WithdrawOnce(e.Ctx, "wd-key", u.ID, dec("300.00"), monday, noon)
	require.NoError(t, err)
	assert.Equal(t, first.ID, settled.ID)
	assert.Equal(t, "succeeded", settled.Status)
	assert.Equal(t, "700.00", available(t, e, u.ID), "withdrawn once")
}

func TestRechargeUnderKeyIsMadeOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "0")
	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	first, err := e.Accounts.RechargeOnce(e.Ctx, "rc-key", u.ID, dec("250.00"), e.Today)
	require.NoError(t, err)
	assert.Equal(t, "processing", first.Status, "unanswered: left for the sweep")
	e.Sim.SetFaults(sim.FaultConfig{})
	again, err := e.Accounts.RechargeOnce(e.Ctx, "rc-key", u.ID, dec("250.00"), e.Today)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	_, err = e.Accounts.RechargeOnce(e.Ctx, "rc-key", u.ID, dec("25.00"), e.Today)
	assert.Equal(t, errs.IdempotencyKeyReused, errs.Code(err))
	_, err = e.Accounts.SettlePending(e.Ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, "250.00", available(t, e, u.ID), "recharged once")
	bankAvail, _ := e.Balance(*u.CustodyAccountNo)
	assert.Equal(t, "250.00", bankAvail)
}

// The fields bank.Callback documents as checked: a callback whose kind,
// account or Seq does not fit the withdrawal is refused and books nothing;
// one whose Seq is not above the last applied changes nothing.
func TestCallbackFieldsAreChecked(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	other := e.User("investor", "10.00")
	monday := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("100.00"), monday, noon)
	require.NoError(t, err)
	bankStatus(t, e, bank.Withdrawal(w.ID), bank.StatusSucceeded)
	good := bank.Callback{RequestNo: bank.Withdrawal(w.ID), Kind: "withdrawal", Status: bank.StatusSucceeded, Seq: 1,
		AccountNo: *u.CustodyAccountNo, Amount: w.Amount, Fee: w.Fee, BusinessDate: monday.Format(time.DateOnly)}

	for name, cb := range map[string]func(c bank.Callback) bank.Callback{
		"reversal as seq 1":  func(c bank.Callback) bank.Callback { c.Status = bank.StatusReversed; return c },
		"success as seq 2":   func(c bank.Callback) bank.Callback { c.Seq = 2; return c },
		"seq 0":              func(c bank.Callback) bank.Callback { c.Seq = 0; return c },
		"another account":    func(c bank.Callback) bank.Callback { c.AccountNo = *other.CustodyAccountNo; return c },
		"another kind":       func(c bank.Callback) bank.Callback { c.Kind = "recharge"; return c },
		"another fee":        func(c bank.Callback) bank.Callback { c.Fee = dec("3.00"); return c },
		"processing, seq 1?": func(c bank.Callback) bank.Callback { c.Status = bank.StatusProcessing; return c },
	} {
		got, _, err := e.Accounts.ApplyCallback(e.Ctx, cb(good))
		assert.Equal(t, errs.Conflict, errs.Code(err), "%s: %v", name, err)
		assert.Equal(t, "processing", got.Status, name)
	}
	got, outcome, err := e.Accounts.ApplyCallback(e.Ctx, good)
	require.NoError(t, err)
	assert.Equal(t, "succeeded", got.Status)
	assert.Equal(t, accounts.CallbackApplied, outcome)
	got, outcome, err = e.Accounts.ApplyCallback(e.Ctx, good)
	require.NoError(t, err, "a repeat is no error")
	assert.Equal(t, "succeeded", got.Status)
	assert.Equal(t, accounts.CallbackAlreadyApplied, outcome, "and says it changed nothing")
	assert.Equal(t, "900.00", available(t, e, u.ID), "booked once")
}
