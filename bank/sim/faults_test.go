package sim_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
)

const seed = 20240301

// unknown asserts a call whose outcome the caller cannot know: retryable.
func unknown(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var be *bank.Error
	if errors.As(err, &be) {
		require.True(t, be.Retryable, "%v", err)
	}
}

func TestFaultErrorBeforeWork(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed})
	a := e.open("0")
	e.faults(sim.FaultConfig{ErrorBefore: 1})
	rc := bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec("10.00")}
	_, err := e.c.Recharge(e.ctx, rc)
	unknown(t, err)
	e.faults(sim.FaultConfig{})
	_, err = e.c.Query(e.ctx, rc.RequestNo)
	refusedWith(t, err, bank.CodeNotFound)
	e.balance(a.no, "0.00", "0.00")
	_, err = e.c.Recharge(e.ctx, rc)
	require.NoError(t, err)
	e.balance(a.no, "10.00", "0.00")
}

func TestFaultErrorAfterWork(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{ErrorAfter: 1}})
	e.faults(sim.FaultConfig{})
	a := e.open("0")
	e.faults(sim.FaultConfig{ErrorAfter: 1})
	rc := bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec("10.00")}
	for i := 0; i < 3; i++ {
		_, err := e.c.Recharge(e.ctx, rc)
		unknown(t, err)
	}
	e.faults(sim.FaultConfig{})
	e.balance(a.no, "10.00", "0.00")
	res, err := e.c.Recharge(e.ctx, rc)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, res.Status)
	e.balance(a.no, "10.00", "0.00")
}

func TestFaultTimeoutAfterWork(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed})
	a := e.open("100.00")
	e.faults(sim.FaultConfig{TimeoutAfter: 1, TimeoutDuration: 3 * time.Second})
	impatient := bank.NewHTTPClient(e.srvURL(), &http.Client{Timeout: 300 * time.Millisecond}, bank.WithAPIKey(apiKey))
	fr := bank.FreezeRequest{RequestNo: e.no("f"), AccountNo: a.no, Amount: dec("40.00")}
	_, err := impatient.Freeze(e.ctx, fr)
	unknown(t, err)
	var be *bank.Error
	require.False(t, errors.As(err, &be), "a timeout is a transport error: %v", err)
	e.faults(sim.FaultConfig{})
	e.balance(a.no, "60.00", "40.00")
	_, err = impatient.Freeze(e.ctx, fr)
	require.NoError(t, err)
	e.balance(a.no, "60.00", "40.00")
}

func TestFaultLatencyRequestStillHappens(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed})
	a := e.open("100.00")
	b := e.open("0")
	e.faults(sim.FaultConfig{Latency: 1, LatencyDuration: 600 * time.Millisecond})
	impatient := bank.NewHTTPClient(e.srvURL(), &http.Client{Timeout: 150 * time.Millisecond}, bank.WithAPIKey(apiKey))
	tr := bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("30.00")}}
	_, err := impatient.Transfer(e.ctx, tr)
	unknown(t, err)
	// The bank got it and does it, late; a retry meanwhile must not double it.
	e.faults(sim.FaultConfig{})
	_, _ = impatient.Transfer(e.ctx, tr)
	e.waitStatus(tr.RequestNo, bank.StatusSucceeded)
	_, err = e.c.Transfer(e.ctx, tr)
	require.NoError(t, err)
	e.settled() // the first, late answer included
	e.balance(a.no, "70.00", "0.00")
	e.balance(b.no, "30.00", "0.00")
}

func TestFaultCallbackDropped(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{CallbackDrop: 1}})
	a := e.open("100.00")
	w := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("100.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	e.waitStatus(w, bank.StatusSucceeded)
	e.settled()
	require.Empty(t, e.cb.of(w), "dropped: only a query tells")
	e.balance(a.no, "0.00", "0.00")
}

func TestFaultCallbackDelayed(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{CallbackDelay: 1, CallbackDelayDuration: 500 * time.Millisecond}})
	a := e.open("100.00")
	w := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("1.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	e.waitStatus(w, bank.StatusSucceeded)
	require.Empty(t, e.cb.of(w), "not yet")
	cbs := e.waitCallbacks(w, 1)
	require.Equal(t, bank.StatusSucceeded, cbs[0].Status)
	e.balance(a.no, "99.00", "0.00")
}

func TestFaultCallbackDuplicated(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{CallbackDuplicate: 1}})
	a := e.open("100.00")
	w := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("20.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	cbs := e.waitCallbacks(w, 2)
	require.Equal(t, cbs[0], cbs[1])
	e.balance(a.no, "77.00", "0.00")
	e.balance(bank.AccountFee, "3.00", "0.00")
}

func TestFaultCallbackReordered(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{CallbackReorder: 1, ReorderHold: 700 * time.Millisecond}})
	a := e.open("100.00")
	w := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("60.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	e.waitStatus(w, bank.StatusSucceeded)
	e.faults(sim.FaultConfig{})
	_, err = e.c.ReverseWithdrawal(e.ctx, w)
	require.NoError(t, err)
	cbs := e.waitCallbacks(w, 2)
	require.Equal(t, bank.StatusReversed, cbs[0].Status, "the reversal overtook the success")
	require.Equal(t, 2, cbs[0].Seq)
	require.Equal(t, bank.StatusSucceeded, cbs[1].Status)
	require.Equal(t, 1, cbs[1].Seq, "a receiver keeps the highest seq")
	e.balance(a.no, "100.00", "0.00")
}

func TestFaultBatchFailure(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed})
	inv, bor := e.open("500.00"), e.open("0")
	f := e.no("f")
	_, err := e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f, AccountNo: inv.no, Amount: dec("500.00")})
	require.NoError(t, err)
	items := []bank.Transfer{
		{From: inv.no, To: bor.no, Amount: dec("500.00"), FreezeRequestNo: f},
		{From: bor.no, To: bank.AccountFee, Amount: dec("5.00")},
	}
	e.faults(sim.FaultConfig{BatchFail: 1})
	first := bank.BatchRequest{RequestNo: bank.Disbursement(7, 1), Purpose: "disbursement", Transfers: items}
	_, err = e.c.Batch(e.ctx, first)
	refusedWith(t, err, bank.CodeBatchFailed)
	e.faults(sim.FaultConfig{})
	// The failed number stays failed; nothing moved and the freeze is intact.
	_, err = e.c.Batch(e.ctx, first)
	refusedWith(t, err, bank.CodeBatchFailed)
	e.balance(inv.no, "0.00", "500.00")
	e.balance(bor.no, "0.00", "0.00")
	q, err := e.c.Query(e.ctx, first.RequestNo)
	require.NoError(t, err)
	require.Equal(t, bank.StatusFailed, q.Status)
	require.Equal(t, bank.CodeBatchFailed, q.Code)

	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: bank.Disbursement(7, 2), Purpose: "disbursement", Transfers: items})
	require.NoError(t, err)
	e.balance(inv.no, "0.00", "0.00")
	e.balance(bor.no, "495.00", "0.00")
	e.balance(bank.AccountFee, "5.00", "0.00")
}

func TestFaultNextDayReversal(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, Faults: sim.FaultConfig{WithdrawalReversal: 1}})
	require.NoError(t, e.c.SetClock(e.ctx, day("2024-05-10")))
	a := e.open("100.00")
	w := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("80.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	e.waitStatus(w, bank.StatusSucceeded)
	e.settled()
	q, err := e.c.Query(e.ctx, w)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, q.Status, "not reversed the same day")
	e.balance(a.no, "17.00", "0.00")

	require.NoError(t, e.c.SetClock(e.ctx, day("2024-05-11")))
	e.waitStatus(w, bank.StatusReversed)
	e.balance(a.no, "100.00", "0.00") // the amount and the fee back
	cbs := e.waitCallbacks(w, 2)
	require.Equal(t, bank.StatusReversed, cbs[1].Status)
	require.Equal(t, "2024-05-11", cbs[1].BusinessDate)
	file, err := e.c.Reconciliation(e.ctx, day("2024-05-11"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"withdrawal_reversal": "83.00"}, sums(file)) // 80.00 and the 3.00 fee
}

// TestFaultsNeverMoveMoneyTwice runs a workload under every fault at once,
// with a fixed seed, retrying each request number until the bank gives a
// definite answer as the platform does, and then checks every balance to the
// cent against what the answers say happened.
func TestFaultsNeverMoveMoneyTwice(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed, WithdrawalDelay: 20 * time.Millisecond})
	require.NoError(t, e.c.SetClock(e.ctx, day("2024-06-01")))
	const users = 6
	accts := make([]acct, users)
	for i := range accts {
		accts[i] = e.open("0")
	}
	e.faults(sim.FaultConfig{
		Latency: 0.2, LatencyDuration: 30 * time.Millisecond,
		ErrorBefore: 0.2, ErrorAfter: 0.2,
		TimeoutAfter: 0.1, TimeoutDuration: time.Second,
		CallbackDrop: 0.2, CallbackDelay: 0.2, CallbackDelayDuration: 50 * time.Millisecond,
		CallbackDuplicate: 0.2, CallbackReorder: 0.2, ReorderHold: 50 * time.Millisecond,
		BatchFail: 0.3, WithdrawalReversal: 0.5,
	})
	c := bank.NewHTTPClient(e.srvURL(), &http.Client{Timeout: 300 * time.Millisecond}, bank.WithAPIKey(apiKey))

	// call retries one request number until the answer is definite.
	var retries, batchFails atomic.Int64
	call := func(fn func() (bank.Result, error)) (bank.Result, error) {
		for i := 0; ; i++ {
			res, err := fn()
			var be *bank.Error
			if err == nil || (errors.As(err, &be) && !be.Retryable) || i == 200 {
				return res, err
			}
			retries.Add(1)
		}
	}

	type model struct {
		mu     sync.Mutex
		avail  map[string]decimal.Decimal
		frozen map[string]decimal.Decimal
	}
	m := &model{avail: map[string]decimal.Decimal{}, frozen: map[string]decimal.Decimal{}}
	var withdrawals []string
	var wdAmount = map[string]decimal.Decimal{}
	var wg sync.WaitGroup
	var wmu sync.Mutex
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(u)))
			me, peer := accts[u], accts[(u+1)%users]
			for step := 0; step < 12; step++ {
				no := fmt.Sprintf("u%d-s%d", u, step)
				amount := decimal.New(r.Int64N(5000)+1, -2)
				switch step % 4 {
				case 0:
					_, err := call(func() (bank.Result, error) {
						return c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: no, AccountNo: me.no, CardNumber: me.card, Amount: amount.Mul(decimal.New(3, 0))})
					})
					if !assert.NoError(t, err) {
						return
					}
					m.mu.Lock()
					m.avail[me.no] = m.avail[me.no].Add(amount.Mul(decimal.New(3, 0)))
					m.mu.Unlock()
				case 1:
					_, err := call(func() (bank.Result, error) {
						return c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: no, AccountNo: me.no, Amount: amount})
					})
					if err != nil {
						if !assert.True(t, bank.IsCode(err, bank.CodeInsufficientBalance), "%v", err) {
							return
						}
						continue
					}
					m.mu.Lock()
					m.avail[me.no], m.frozen[me.no] = m.avail[me.no].Sub(amount), m.frozen[me.no].Add(amount)
					m.mu.Unlock()
					// Spend the freeze in a batch; a failed batch is sent again
					// under the next attempt's number, like the platform's ops retry.
					for attempt := 1; ; attempt++ {
						_, err := call(func() (bank.Result, error) {
							return c.Batch(e.ctx, bank.BatchRequest{RequestNo: fmt.Sprintf("%s-batch-%d", no, attempt), Transfers: []bank.Transfer{
								{From: me.no, To: peer.no, Amount: amount, FreezeRequestNo: no}}})
						})
						if bank.IsCode(err, bank.CodeBatchFailed) {
							batchFails.Add(1)
							continue
						}
						if !assert.NoError(t, err) {
							return
						}
						break
					}
					m.mu.Lock()
					m.frozen[me.no] = m.frozen[me.no].Sub(amount)
					m.avail[peer.no] = m.avail[peer.no].Add(amount)
					m.mu.Unlock()
				case 2:
					_, err := call(func() (bank.Result, error) {
						return c.Transfer(e.ctx, bank.TransferRequest{RequestNo: no, Transfer: bank.Transfer{From: me.no, To: peer.no, Amount: amount}})
					})
					if err != nil {
						if !assert.True(t, bank.IsCode(err, bank.CodeInsufficientBalance), "%v", err) {
							return
						}
						continue
					}
					m.mu.Lock()
					m.avail[me.no], m.avail[peer.no] = m.avail[me.no].Sub(amount), m.avail[peer.no].Add(amount)
					m.mu.Unlock()
				case 3:
					fee := dec("3.00")
					_, err := call(func() (bank.Result, error) {
						return c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: no, AccountNo: me.no, Amount: amount, Fee: fee, Route: bank.RouteSuperEBank})
					})
					if err != nil {
						if !assert.True(t, bank.IsCode(err, bank.CodeInsufficientBalance), "%v", err) {
							return
						}
						continue
					}
					m.mu.Lock()
					m.avail[me.no] = m.avail[me.no].Sub(amount).Sub(fee)
					m.avail[bank.AccountFee] = m.avail[bank.AccountFee].Add(fee)
					m.mu.Unlock()
					wmu.Lock()
					withdrawals = append(withdrawals, no)
					wdAmount[no] = amount
					wmu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	require.NotZero(t, retries.Load(), "the seed makes calls fail")
	require.NotZero(t, batchFails.Load(), "the seed fails batches")
	t.Logf("%d retried calls, %d failed batches, %d withdrawals", retries.Load(), batchFails.Load(), len(withdrawals))

	// Every withdrawal completes; the next day some are reversed, which gives
	// the amount and the fee back.
	for _, w := range withdrawals {
		e.waitStatus(w, bank.StatusSucceeded)
	}
	e.faults(sim.FaultConfig{})
	require.NoError(t, e.c.SetClock(e.ctx, day("2024-06-02")))
	e.settled() // the reversals due on the new day made
	reversed := 0
	for _, w := range withdrawals {
		q, err := e.c.Query(e.ctx, w)
		require.NoError(t, err)
		if q.Status == bank.StatusReversed {
			reversed++
			owner, fee := q.AccountNo, dec("3.00")
			m.avail[owner] = m.avail[owner].Add(wdAmount[w]).Add(fee)
			m.avail[bank.AccountFee] = m.avail[bank.AccountFee].Sub(fee)
		}
	}
	require.NotZero(t, reversed, "the seed reverses some withdrawals")

	for _, a := range append([]acct{{no: bank.AccountFee}}, accts...) {
		e.balance(a.no, m.avail[a.no].StringFixed(2), m.frozen[a.no].StringFixed(2))
	}
	// However often a callback was duplicated or delayed, each is a result
	// the bank really reached.
	for _, w := range withdrawals {
		for _, cb := range e.cb.of(w) {
			require.Contains(t, []bank.Status{bank.StatusSucceeded, bank.StatusReversed}, cb.Status)
		}
	}
	require.Zero(t, e.cb.bad)
}

func TestFaultsSetOverHTTP(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: seed})
	require.NoError(t, e.c.SetFaults(e.ctx, sim.FaultConfig{BatchFail: 1, CallbackDelay: 0.5, CallbackDelayDuration: time.Second}))
	got := e.sim.Faults()
	require.Equal(t, 1.0, got.BatchFail)
	require.Equal(t, time.Second, got.CallbackDelayDuration)
	err := e.c.SetFaults(e.ctx, map[string]any{"batch_fial": 1})
	refusedWith(t, err, bank.CodeInvalidRequest)
	require.NoError(t, e.c.SetFaults(e.ctx, sim.FaultConfig{}))
	require.Zero(t, e.sim.Faults().BatchFail)
}
