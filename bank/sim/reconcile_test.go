package sim_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// sums totals a file's amounts by movement type.
func sums(lines []bank.ReconciliationLine) map[string]string {
	acc := map[string]decimal.Decimal{}
	for _, l := range lines {
		acc[l.Type] = acc[l.Type].Add(l.Amount)
	}
	out := map[string]string{}
	for k, v := range acc {
		out[k] = v.StringFixed(2)
	}
	return out
}

// replay rebuilds available balances from files alone, as the platform's
// reconciliation would.
func replay(files ...[]bank.ReconciliationLine) map[string]decimal.Decimal {
	avail := map[string]decimal.Decimal{}
	for _, lines := range files {
		for _, l := range lines {
			switch l.Type {
			case bank.MoveFreeze:
				avail[l.From] = avail[l.From].Sub(l.Amount)
			case bank.MoveUnfreeze:
				avail[l.To] = avail[l.To].Add(l.Amount)
			default:
				if l.FreezeRequestNo == "" {
					avail[l.From] = avail[l.From].Sub(l.Amount)
				}
				avail[l.To] = avail[l.To].Add(l.Amount)
			}
		}
	}
	return avail
}

func TestReconciliationFile(t *testing.T) {
	e := newEnv(t, sim.Config{})
	require.NoError(t, e.c.SetClock(e.ctx, day("2024-03-01")))
	got, err := e.c.Clock(e.ctx)
	require.NoError(t, err)
	require.Equal(t, "2024-03-01", got.Format(time.DateOnly))

	a, b := e.open("0"), e.open("0")
	e.recharge(a, "1000.00")
	e.recharge(a, "0.01")
	f := e.no("f")
	_, err = e.c.Freeze(e.ctx, bank.FreezeRequest{RequestNo: f, AccountNo: a.no, Amount: dec("100.00")})
	require.NoError(t, err)
	_, err = e.c.Transfer(e.ctx, bank.TransferRequest{RequestNo: e.no("t"), Purpose: "compensation", Transfer: bank.Transfer{From: a.no, To: b.no, Amount: dec("50.00")}})
	require.NoError(t, err)
	w := e.no("w")
	res, err := e.c.Withdraw(e.ctx, bank.WithdrawRequest{RequestNo: w, AccountNo: a.no, Amount: dec("200.00"), Fee: dec("3.00"), Route: bank.RouteSuperEBank})
	require.NoError(t, err)
	require.Equal(t, "2024-03-01", res.BusinessDate)
	e.waitStatus(w, bank.StatusSucceeded)

	require.NoError(t, e.c.SetClock(e.ctx, day("2024-03-02")))
	e.recharge(b, "10.00")
	_, err = e.c.Batch(e.ctx, bank.BatchRequest{RequestNo: e.no("b"), Purpose: "disbursement", Transfers: []bank.Transfer{
		{From: a.no, To: b.no, Amount: dec("100.00"), FreezeRequestNo: f},
		{From: b.no, To: bank.AccountFee, Amount: dec("2.00")},
	}})
	require.NoError(t, err)
	_, err = e.c.ReverseWithdrawal(e.ctx, w)
	require.NoError(t, err)

	d1, err := e.c.Reconciliation(e.ctx, day("2024-03-01"))
	require.NoError(t, err)
	d2, err := e.c.Reconciliation(e.ctx, day("2024-03-02"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"recharge": "1000.01", "freeze": "100.00", "transfer": "50.00", "withdrawal": "200.00", "withdrawal_fee": "3.00",
	}, sums(d1))
	require.Equal(t, map[string]string{
		"recharge": "10.00", "batch": "102.00", "withdrawal_reversal": "203.00", // 200.00 from the card, 3.00 from P-FEE
	}, sums(d2))
	for _, l := range d1 {
		require.Equal(t, "2024-03-01", l.BusinessDate.Format(time.DateOnly))
		if l.RequestNo == w {
			require.Equal(t, bank.StatusReversed, l.Status, "the file shows the withdrawal's status now")
		}
	}
	for _, l := range d2 {
		if l.Type == bank.MoveWithdrawalReversal {
			require.Equal(t, w, l.RequestNo)
			from := map[int]string{0: bank.CardAccount(a.card), 1: bank.AccountFee}
			require.Equal(t, from[l.Item], l.From, "item %d", l.Item)
			require.Equal(t, a.no, l.To)
		}
		if l.Type == bank.MoveBatch {
			require.Contains(t, []int{1, 2}, l.Item)
		}
	}

	// The files alone account for every account's available balance.
	avail := replay(d1, d2)
	for _, acct := range []string{a.no, b.no, bank.AccountFee} {
		bal, err := e.c.Balance(e.ctx, acct)
		require.NoError(t, err)
		require.Equal(t, bal.Available.StringFixed(2), avail[acct].StringFixed(2), acct)
	}
	e.balance(a.no, "850.01", "0.00") // the reversal gave back 200.00 and the 3.00 fee
	e.balance(b.no, "158.00", "0.00")
	e.balance(bank.AccountFee, "2.00", "0.00")

	empty, err := e.c.Reconciliation(e.ctx, day("2024-03-03"))
	require.NoError(t, err)
	require.Empty(t, empty)
}
