package sim_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
)

func TestOpenAccountFourFactor(t *testing.T) {
	e := newEnv(t, sim.Config{})
	good := person()

	for name, mutate := range map[string]func(*bank.OpenAccountRequest){
		"empty name":    func(r *bank.OpenAccountRequest) { r.Name = " " },
		"bad ID check":  func(r *bank.OpenAccountRequest) { r.IDNumber = flipCheck(r.IDNumber) },
		"short ID":      func(r *bank.OpenAccountRequest) { r.IDNumber = "11010519900101" },
		"bad phone":     func(r *bank.OpenAccountRequest) { r.Phone = "23800138000" },
		"bad card Luhn": func(r *bank.OpenAccountRequest) { r.CardNumber = flipLast(r.CardNumber) },
	} {
		t.Run(name, func(t *testing.T) {
			r := good
			mutate(&r)
			r.RequestNo = e.no("open-bad")
			_, err := e.c.OpenAccount(e.ctx, r)
			refusedWith(t, err, bank.CodeFourFactorMismatch)
			// Not recorded: the same number may carry corrected factors.
			_, err = e.c.Query(e.ctx, r.RequestNo)
			refusedWith(t, err, bank.CodeNotFound)
			fixed := good
			fixed.RequestNo = r.RequestNo
			_, err = e.c.OpenAccount(e.ctx, fixed)
			require.NoError(t, err)
		})
	}

	r := good
	r.RequestNo = e.no("open")
	first, err := e.c.OpenAccount(e.ctx, r)
	require.NoError(t, err)
	again, err := e.c.OpenAccount(e.ctx, r)
	require.NoError(t, err)
	require.Equal(t, first.AccountNo, again.AccountNo, "a repeat answers the first account")
	q, err := e.c.Query(e.ctx, r.RequestNo)
	require.NoError(t, err)
	require.Equal(t, first.AccountNo, q.AccountNo)
	e.balance(first.AccountNo, "0.00", "0.00")

	r.RequestNo, r.Kind = e.no("open"), "lender"
	_, err = e.c.OpenAccount(e.ctx, r)
	refusedWith(t, err, bank.CodeInvalidRequest)

	_, err = e.c.Balance(e.ctx, "CA-nope")
	refusedWith(t, err, bank.CodeAccountNotFound)
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == '9' {
		return s[:len(s)-1] + "0"
	}
	return s[:len(s)-1] + string(last+1)
}

// flipCheck makes an ID number's check character wrong.
func flipCheck(id string) string {
	for _, c := range "0123456789X" {
		cand := id[:17] + string(c)
		if cand != id {
			return cand
		}
	}
	return id
}

func TestRechargeOnlyFromBoundCard(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("0")
	other := person().CardNumber
	reqNo := e.no("rc")
	_, err := e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: reqNo, AccountNo: a.no, CardNumber: other, Amount: dec("100.00")})
	refusedWith(t, err, bank.CodeCardMismatch)
	e.balance(a.no, "0.00", "0.00")

	e.recharge(a, "100.10")
	e.balance(a.no, "100.10", "0.00")

	for _, amt := range []string{"0", "-1", "1.001"} {
		_, err = e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec(amt)})
		refusedWith(t, err, bank.CodeInvalidRequest)
	}
	_, err = e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: "CA-none", CardNumber: a.card, Amount: dec("1")})
	refusedWith(t, err, bank.CodeAccountNotFound)
	e.balance(a.no, "100.10", "0.00")
}

func TestFreezeReleasedOrSpentOnce(t *testing.T) {
	e := newEnv(t, sim.Config{})
	inv := e.open("1000.00")
	bor := e.open("0")

	f1 := e.no("freeze")
	res, err := e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f1, AccountNo: inv.no, Amount: dec("300.00")})
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, res.Status)
	e.balance(inv.no, "700.00", "300.00")

	_, err = e.c.Unfreeze(e.ctx, bank.UnfreezeRequest{RequestNo: e.no("unfreeze"), FreezeRequestNo: f1})
	require.NoError(t, err)
	e.balance(inv.no, "1000.00", "0.00")
	_, err = e.c.Unfreeze(e.ctx, bank.UnfreezeRequest{RequestNo: e.no("unfreeze"), FreezeRequestNo: f1})
	refusedWith(t, err, bank.CodeFreezeSpent)
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("batch"), Transfers: []bank.Transfer{
		{From: inv.no, To: bor.no, Amount: dec("300.00"), FreezeRequestNo: f1}}})
	refusedWith(t, err, bank.CodeFreezeSpent)
	e.balance(inv.no, "1000.00", "0.00")

	f2 := e.no("freeze")
	_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f2, AccountNo: inv.no, Amount: dec("250.50")})
	require.NoError(t, err)
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("batch"), Purpose: "disbursement", Transfers: []bank.Transfer{
		{From: inv.no, To: bor.no, Amount: dec("250.50"), FreezeRequestNo: f2}}})
	require.NoError(t, err)
	e.balance(inv.no, "749.50", "0.00")
	e.balance(bor.no, "250.50", "0.00")
	_, err = e.c.Unfreeze(e.ctx, bank.UnfreezeRequest{RequestNo: e.no("unfreeze"), FreezeRequestNo: f2})
	refusedWith(t, err, bank.CodeFreezeSpent)
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("batch"), Transfers: []bank.Transfer{
		{From: inv.no, To: bor.no, Amount: dec("250.50"), FreezeRequestNo: f2}}})
	refusedWith(t, err, bank.CodeFreezeSpent)

	// A freeze not (yet) known is refused but not recorded: the same number
	// works once the freeze exists.
	f3, un3 := e.no("freeze"), e.no("unfreeze")
	_, err = e.c.Unfreeze(e.ctx, bank.UnfreezeRequest{RequestNo: un3, FreezeRequestNo: f3})
	refusedWith(t, err, bank.CodeFreezeNotFound)
	_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f3, AccountNo: inv.no, Amount: dec("0.01")})
	require.NoError(t, err)
	e.balance(inv.no, "749.49", "0.01")
	_, err = e.c.Unfreeze(e.ctx, bank.UnfreezeRequest{RequestNo: un3, FreezeRequestNo: f3})
	require.NoError(t, err)
	e.balance(inv.no, "749.50", "0.00")

	// A freeze is spent only by its own account and for its whole amount.
	f4 := e.no("freeze")
	_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f4, AccountNo: inv.no, Amount: dec("100.00")})
	require.NoError(t, err)
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("batch"), Transfers: []bank.Transfer{
		{From: inv.no, To: bor.no, Amount: dec("99.99"), FreezeRequestNo: f4}}})
	refusedWith(t, err, bank.CodeInvalidRequest)
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("batch"), Transfers: []bank.Transfer{
		{From: bor.no, To: inv.no, Amount: dec("100.00"), FreezeRequestNo: f4}}})
	refusedWith(t, err, bank.CodeInvalidRequest)
	e.balance(inv.no, "649.50", "100.00")
}

func TestBatchAllOrNothing(t *testing.T) {
	e := newEnv(t, sim.Config{})
	inv1, inv2 := e.open("5000.00"), e.open("3000.00")
	bor := e.open("0")
	f1, f2 := e.no("freeze"), e.no("freeze")
	for _, f := range []struct {
		no string
		a  acct
		am string
	}{{f1, inv1, "4000.00"}, {f2, inv2, "1000.00"}} {
		_, err := e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f.no, AccountNo: f.a.no, Amount: dec(f.am)})
		require.NoError(t, err)
	}
	// The last item needs more than the borrower will have: nothing moves.
	bad := bank.BatchRequest{RequestNo: e.no("disburse"), Purpose: "disbursement", Transfers: []bank.Transfer{
		{From: inv1.no, To: bor.no, Amount: dec("4000.00"), FreezeRequestNo: f1},
		{From: inv2.no, To: bor.no, Amount: dec("1000.00"), FreezeRequestNo: f2},
		{From: bor.no, To: bank.AccountFee, Amount: dec("100.00")},
		{From: bor.no, To: bank.AccountRiskReserve, Amount: dec("4900.01")},
	}}
	_, err := e.c.Batch(e.ctx, bad)
	refusedWith(t, err, bank.CodeInsufficientBalance)
	e.balance(inv1.no, "1000.00", "4000.00")
	e.balance(inv2.no, "2000.00", "1000.00")
	e.balance(bor.no, "0.00", "0.00")
	e.balance(bank.AccountFee, "0.00", "0.00")

	// Disbursement: the borrower pays the fee and reserve out of what the
	// earlier items of the same batch credited.
	good := bank.BatchRequest{RequestNo: e.no("disburse"), Purpose: "disbursement", Transfers: []bank.Transfer{
		{From: inv1.no, To: bor.no, Amount: dec("4000.00"), FreezeRequestNo: f1},
		{From: inv2.no, To: bor.no, Amount: dec("1000.00"), FreezeRequestNo: f2},
		{From: bor.no, To: bank.AccountFee, Amount: dec("100.00")},
		{From: bor.no, To: bank.AccountRiskReserve, Amount: dec("100.00")},
	}}
	res, err := e.c.Batch(e.ctx, good)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, res.Status)
	e.balance(inv1.no, "1000.00", "0.00")
	e.balance(inv2.no, "2000.00", "0.00")
	e.balance(bor.no, "4800.00", "0.00")
	e.balance(bank.AccountFee, "100.00", "0.00")
	e.balance(bank.AccountRiskReserve, "100.00", "0.00")

	// Repeating the batch answers it without paying twice.
	res, err = e.c.Batch(e.ctx, good)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, res.Status)
	e.balance(bor.no, "4800.00", "0.00")

	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("b")})
	refusedWith(t, err, bank.CodeInvalidRequest)
}

func TestInsufficientBalance(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("100.00")
	b := e.open("0")
	_, err := e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: e.no("f"), AccountNo: a.no, Amount: dec("100.01")})
	refusedWith(t, err, bank.CodeInsufficientBalance)
	_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("100.01")}})
	refusedWith(t, err, bank.CodeInsufficientBalance)
	// The fee comes on top of the amount (docs/rules.md "Withdrawal fee").
	_, err = e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: e.no("w"), AccountNo: a.no, Amount: dec("98.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	refusedWith(t, err, bank.CodeInsufficientBalance)
	e.balance(a.no, "100.00", "0.00")

	_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("100.00")}})
	require.NoError(t, err)
	e.balance(a.no, "0.00", "0.00")
	e.balance(b.no, "100.00", "0.00")
}

func TestRepeatAnswersFirstResult(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("0")
	rc := bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec("500.00")}
	for i := 0; i < 3; i++ {
		res, err := e.c.Recharge(e.ctx, rc)
		require.NoError(t, err)
		require.Equal(t, bank.StatusSucceeded, res.Status)
	}
	e.balance(a.no, "500.00", "0.00")

	// A refusal is the number's answer even after the balance would allow it.
	fr := bank.FreezeRequest{RequestNo: e.no("f"), AccountNo: a.no, Amount: dec("600.00")}
	_, err := e.c.Freeze(e.ctx, fr)
	refusedWith(t, err, bank.CodeInsufficientBalance)
	e.recharge(a, "200.00")
	_, err = e.c.Freeze(e.ctx, fr)
	refusedWith(t, err, bank.CodeInsufficientBalance)
	e.balance(a.no, "700.00", "0.00")

	// Amount written differently is the same content.
	rc2 := rc
	rc2.Amount = dec("500")
	_, err = e.c.Recharge(e.ctx, rc2)
	require.NoError(t, err)
	e.balance(a.no, "700.00", "0.00")

	_, err = e.c.Query(e.ctx, "never-sent")
	refusedWith(t, err, bank.CodeNotFound)
}

func TestReusedRequestNoRefused(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("0")
	no := e.no("rc")
	_, err := e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: no, AccountNo: a.no, CardNumber: a.card, Amount: dec("10.00")})
	require.NoError(t, err)
	_, err = e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: no, AccountNo: a.no, CardNumber: a.card, Amount: dec("10.01")})
	refusedWith(t, err, bank.CodeRequestNoReused)
	_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: no, AccountNo: a.no, Amount: dec("10.00")})
	refusedWith(t, err, bank.CodeRequestNoReused)
	e.balance(a.no, "10.00", "0.00")
	q, err := e.c.Query(e.ctx, no)
	require.NoError(t, err)
	require.Equal(t, bank.StatusSucceeded, q.Status)
	require.Equal(t, "recharge", q.Kind)
}

func TestConcurrentDuplicatesDoTheWorkOnce(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("0")
	b := e.open("0")
	rc := bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec("1000.00")}
	tr := bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("0.01")}}
	fr := bank.FreezeRequest{RequestNo: e.no("f"), AccountNo: a.no, Amount: dec("0.10")}
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.c.Recharge(e.ctx, rc)
			errs <- err
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := e.c.Transfer(e.ctx, tr)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := e.c.Freeze(e.ctx, fr)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	e.balance(a.no, "999.89", "0.10")
	e.balance(b.no, "0.01", "0.00")
}

func TestConcurrentSpendingNeverOverdraws(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("10.00")
	b := e.open("0")
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: e.no("f"), AccountNo: a.no, Amount: dec("1.00")})
			} else {
				_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("1.00")}})
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if bank.IsCode(err, bank.CodeInsufficientBalance) {
				refused++
			} else {
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 10, ok)
	require.Equal(t, n-10, refused)
	bal, err := e.c.Balance(e.ctx, a.no)
	require.NoError(t, err)
	require.Equal(t, "0.00", bal.Available.StringFixed(2))
}

func TestWithdrawalCallbackSigned(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("1000.00")
	no := e.no("w")
	res, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: no, AccountNo: a.no, Amount: dec("100.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	require.Equal(t, bank.StatusProcessing, res.Status)
	// The money leaves available at once, so it cannot be spent twice.
	e.balance(a.no, "897.00", "0.00")
	e.balance(bank.AccountFee, "3.00", "0.00")

	cbs := e.waitCallbacks(no, 1)
	require.Equal(t, bank.StatusSucceeded, cbs[0].Status)
	require.Equal(t, 1, cbs[0].Seq)
	require.Equal(t, "100.00", cbs[0].Amount.StringFixed(2))
	require.Equal(t, "3.00", cbs[0].Fee.StringFixed(2))
	require.Equal(t, a.no, cbs[0].AccountNo)
	require.Zero(t, e.cb.bad, "every callback verified")

	e.cb.mu.Lock()
	body := append([]byte(nil), e.cb.bodies[len(e.cb.bodies)-1]...)
	e.cb.mu.Unlock()
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := bank.Sign(secret, now.Unix(), body)
	require.NoError(t, bank.VerifyCallback(secret, ts, sig, body, now))
	require.Error(t, bank.VerifyCallback([]byte("other"), ts, sig, body, now))
	body[len(body)-2] ^= 1
	require.Error(t, bank.VerifyCallback(secret, ts, sig, body, now), "a changed body fails")

	e.waitStatus(no, bank.StatusSucceeded)
	e.balance(a.no, "897.00", "0.00")
	e.settled()
	require.Len(t, e.cb.of(no), 1)

	// Super e-banking carries at most 50,000.00.
	big := e.open("60000.00")
	_, err = e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: e.no("w"), AccountNo: big.no, Amount: dec("50000.01"), Route: bank.RouteSuperEBank})
	refusedWith(t, err, bank.CodeRouteNotAllowed)
	_, err = e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: e.no("w"), AccountNo: big.no, Amount: dec("50000.01"), Route: bank.RouteLargeValue})
	require.NoError(t, err)
	e.balance(big.no, "9999.99", "0.00")
}

func TestCallbackRetriedUntilAccepted(t *testing.T) {
	e := newEnv(t, sim.Config{})
	e.cb.failFirst.Store(3)
	a := e.open("10.00")
	no := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: no, AccountNo: a.no, Amount: dec("10.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	cbs := e.waitCallbacks(no, 1)
	require.Equal(t, bank.StatusSucceeded, cbs[0].Status)
	e.settled()
	require.Len(t, e.cb.of(no), 1, "delivered once it was accepted, and only then")
}

func TestWithdrawalReversal(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("1000.00")
	no := e.no("w")
	_, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: no, AccountNo: a.no, Amount: dec("400.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	// Only a succeeded withdrawal can be reversed; this one may still be
	// processing (or, on a loaded machine, already succeeded).
	res, err := e.c.ReverseWithdrawal(e.ctx, no)
	if err != nil {
		refusedWith(t, err, bank.CodeInvalidState)
		e.waitStatus(no, bank.StatusSucceeded)
		res, err = e.c.ReverseWithdrawal(e.ctx, no)
		require.NoError(t, err)
	}
	require.Equal(t, bank.StatusReversed, res.Status)
	// The amount comes back, and the fee from the fee account: a reversed
	// withdrawal costs nothing.
	e.balance(a.no, "1000.00", "0.00")
	e.balance(bank.AccountFee, "0.00", "0.00")
	res, err = e.c.ReverseWithdrawal(e.ctx, no)
	require.NoError(t, err)
	require.Equal(t, bank.StatusReversed, res.Status)
	e.balance(a.no, "1000.00", "0.00")

	cbs := e.waitCallbacks(no, 2)
	require.Equal(t, []bank.Status{bank.StatusSucceeded, bank.StatusReversed}, []bank.Status{cbs[0].Status, cbs[1].Status})
	require.Equal(t, 2, cbs[1].Seq)
	q, err := e.c.Query(e.ctx, no)
	require.NoError(t, err)
	require.Equal(t, bank.StatusReversed, q.Status)

	_, err = e.c.ReverseWithdrawal(e.ctx, "no-such-withdrawal")
	refusedWith(t, err, bank.CodeNotFound)
}

func TestChangeCard(t *testing.T) {
	e := newEnv(t, sim.Config{WithdrawalDelay: 300 * time.Millisecond})
	a := e.open("50.00")
	newCard := person().CardNumber
	_, err := e.c.ChangeCard(e.ctx, bank.ChangeCardRequest{RequestNo: e.no("card"), AccountNo: a.no, CardNumber: newCard})
	refusedWith(t, err, bank.CodeBalanceNotZero)

	w := e.no("w")
	_, err = e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("50.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	e.balance(a.no, "0.00", "0.00")
	// Balance is zero, but the money is still on its way to the old card.
	_, err = e.c.ChangeCard(e.ctx, bank.ChangeCardRequest{RequestNo: e.no("card"), AccountNo: a.no, CardNumber: newCard})
	refusedWith(t, err, bank.CodeBalanceNotZero)

	e.waitStatus(w, bank.StatusSucceeded)
	_, err = e.c.ChangeCard(e.ctx, bank.ChangeCardRequest{RequestNo: e.no("card"), AccountNo: a.no, CardNumber: flipLast(newCard)})
	refusedWith(t, err, bank.CodeFourFactorMismatch)
	_, err = e.c.ChangeCard(e.ctx, bank.ChangeCardRequest{RequestNo: e.no("card"), AccountNo: a.no, CardNumber: newCard})
	require.NoError(t, err)

	_, err = e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec("1.00")})
	refusedWith(t, err, bank.CodeCardMismatch)
	e.recharge(acct{no: a.no, card: newCard}, "1.00")
	e.balance(a.no, "1.00", "0.00")
}

func TestPlatformAccounts(t *testing.T) {
	e := newEnv(t, sim.Config{})
	a := e.open("100.00")
	_, err := e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: a.no, To: bank.AccountBonus, Amount: dec("1.00")}})
	refusedWith(t, err, bank.CodeAccountRestricted)
	_, err = e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: e.no("w"), AccountNo: a.no, Amount: dec("10.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Transfer: bank.Transfer{From: bank.AccountFee, To: a.no, Amount: dec("1.00")}})
	refusedWith(t, err, bank.CodeAccountRestricted)

	_, err = e.c.Deposit(e.ctx, bank.DepositRequest{RequestNo: e.no("dep"), AccountNo: a.no, Amount: dec("1.00")})
	refusedWith(t, err, bank.CodeAccountRestricted)
	_, err = e.c.Deposit(e.ctx, bank.DepositRequest{RequestNo: e.no("dep"), AccountNo: bank.AccountBonus, Amount: dec("20.00")})
	require.NoError(t, err)
	_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Purpose: "bonus", Transfer: bank.Transfer{From: bank.AccountBonus, To: a.no, Amount: dec("5.55")}})
	require.NoError(t, err)
	e.balance(a.no, "92.55", "0.00")
	e.balance(bank.AccountBonus, "14.45", "0.00")
	e.balance(bank.AccountFee, "3.00", "0.00")
	e.balance(bank.AccountSummary, "0.00", "0.00")
}
