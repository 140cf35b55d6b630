package api

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// writtenOff is a loan written off with its holders owed 6,412.61 — two
// investors 4,000.00 and 2,000.00 and the risk reserve 412.61 — and its
// borrower holding 7,054.00, as issue 26 found it.
func writtenOff(t *testing.T, p *platform) (dbq.Loan, dbq.User, []dbq.User) {
	t.Helper()
	borrower := p.e.User(lending.RoleBorrower, "7054.00")
	loan := p.e.ListedLoan(borrower, "6000.00", "C", "0.11", 3, false)
	_, err := p.e.Pool.Exec(p.e.Ctx, `UPDATE loans SET status = $2 WHERE id = $1`, loan.ID, lending.StatusWrittenOff)
	require.NoError(t, err)
	invs := []dbq.User{p.e.Investor("C3", "0"), p.e.Investor("C3", "0")}
	for _, l := range []struct {
		key, holder string
		user        *int64
		amount      string
	}{{"bid:1", "investor", &invs[0].ID, "4000.00"}, {"bid:2", "investor", &invs[1].ID, "2000.00"}, {"reserve", "reserve", nil, "412.61"}} {
		require.NoError(t, p.e.Q.WriteOffLossInsert(p.e.Ctx, dbq.WriteOffLossInsertParams{LoanID: loan.ID, HolderKey: l.key, Holder: l.holder,
			UserID: l.user, Amount: decimal.RequireFromString(l.amount)}))
	}
	return loan, borrower, invs
}

// runRecoveries stands in for RecoveryWorkflow: each recovery's Recover runs
// once, after gate, and Get answers its result (or its context's end, which
// the API answers 202).
func runRecoveries(p *platform, gate func()) {
	acts := activities.New(p.e.Pool, p.e.Bank, p.e.Log, false)
	var mu sync.Mutex
	done := map[string]chan struct{}{}
	results := map[string]activities.RecoverResult{}
	failures := map[string]error{}
	p.tc.onGet = func(ctx context.Context, id string, args []any, valuePtr any) error {
		mu.Lock()
		ch, ok := done[id]
		if !ok {
			ch = make(chan struct{})
			done[id] = ch
			go func() {
				gate()
				res, err := acts.Recover(context.Background(), activities.RecoverInput{RecoveryID: args[0].(workflows.RecoveryInput).RecoveryID})
				mu.Lock()
				results[id], failures[id] = res, err
				mu.Unlock()
				close(ch)
			}()
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		defer mu.Unlock()
		*valuePtr.(*activities.RecoverResult) = results[id]
		return failures[id]
	}
}

// Issue 26, case 1: two recoveries of 3,527.00 at once, each within the
// 6,412.61 the holders are owed, together beyond it. The bank takes 300 ms a
// call and neither is carried out before both were admitted, so both would be
// planned on the same losses. Exactly one is carried out; the other is
// refused 422 validation_failed, moves nothing at the bank, and its retry
// under the same key answers the same; the bank and the ledger agree to the
// cent. (Before: one 201, the other 500 on every retry, both batches paid by
// the bank, 7,054.00 against 6,412.61 owed, and the books apart.)
func TestTwoRecoveriesAtOnceNeverPayMoreThanIsOwed(t *testing.T) {
	p := newPlatform(t)
	p.s.UpdateWait = 30 * time.Second
	p.s.wire()
	ops := p.ops(t)
	loan, borrower, invs := writtenOff(t, p)
	var started, answered atomic.Int32
	p.tc.onStart = func(client.StartWorkflowOptions) error { started.Add(1); return nil }
	runRecoveries(p, func() {
		testwait.Within(10 * time.Second).Every(5 * time.Millisecond).Until(func() bool {
			return started.Load() >= 2 || answered.Load() > 0
		})
	})
	p.e.Sim.SetFaults(sim.FaultConfig{Latency: 1, LatencyDuration: 300 * time.Millisecond})

	path := fmt.Sprintf("/v1/ops/loans/%d/recoveries", loan.ID)
	body := `{"amount":"3527.00","note":"collected"}`
	answers := make([]answer, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = do(t, p.srv, "POST", path, ops, fmt.Sprintf("recovery-%d", i), body)
			answered.Add(1)
		}()
	}
	wg.Wait()
	p.e.Sim.SetFaults(sim.FaultConfig{})

	sort.Slice(answers, func(i, j int) bool { return answers[i].status < answers[j].status })
	won, lost := answers[0], answers[1]
	assert.Equal(t, []int{201, 422}, []int{won.status, lost.status}, "%s\n%s", won.raw, lost.raw)
	assert.Equal(t, "validation_failed", lost.body["code"])
	assert.Contains(t, lost.raw, "more than the 2885.61 the holders have still to recover", "6412.61 − 3527.00 reserved by the other")
	sum := decimal.Zero
	for _, d := range won.body["distributed"].([]any) {
		sum = sum.Add(decimal.RequireFromString(d.(map[string]any)["amount"].(string)))
	}
	assert.Equal(t, "3527.00", sum.StringFixed(2))
	for i := range answers {
		again := do(t, p.srv, "POST", path, ops, fmt.Sprintf("recovery-%d", i), body)
		assert.Contains(t, []string{won.raw, lost.raw}, again.raw, "a retry under its key answers the same")
	}

	// The bank moved 3,527.00 once: the borrower keeps 3,527.00; the holders
	// have it pro rata to 4,000.00 / 2,000.00 / 412.61 of 6,412.61, exactly
	// 2200.0402 / 1100.0201 / 226.9397: 2,200.04, 1,100.02 and 226.93 + the
	// leftover cent (the largest remainder) = 226.94.
	want := map[string]string{*borrower.CustodyAccountNo: "3527.00", *invs[0].CustodyAccountNo: "2200.04",
		*invs[1].CustodyAccountNo: "1100.02", bank.AccountRiskReserve: "226.94"}
	got := map[string]string{}
	for acct := range want {
		got[acct], _ = p.e.Balance(acct)
	}
	assert.Equal(t, want, got)
	for _, u := range []dbq.User{borrower, invs[0], invs[1]} {
		s, err := ledger.AccountSummary(p.e.Ctx, p.e.Pool, u.ID)
		require.NoError(t, err)
		assert.Equal(t, want[*u.CustodyAccountNo], s.Available.StringFixed(2), "user %d: the ledger mirrors the bank", u.ID)
	}
	var recovered, reserved decimal.Decimal
	var open int
	require.NoError(t, p.e.Pool.QueryRow(p.e.Ctx, `SELECT sum(recovered), sum(reserved),
		(SELECT count(*) FROM recoveries WHERE loan_id = $1 AND status = 'processing')
		FROM write_off_losses WHERE loan_id = $1`, loan.ID).Scan(&recovered, &reserved, &open))
	assert.Equal(t, "3527.00", recovered.StringFixed(2))
	assert.True(t, reserved.IsZero(), "nothing left reserved")
	assert.Zero(t, open, "no recovery left processing")
}

// A recovery whose step ends in a refusal (here the database's own guard,
// which the activity classifies as conflict) is answered with that refusal,
// and again under the same key: a money path never answers 500 for it.
func TestARecoveryRefusedByItsStepIsNotA500(t *testing.T) {
	p := newPlatform(t)
	ops := p.ops(t)
	loan, _, _ := writtenOff(t, p)
	p.tc.onGet = func(context.Context, string, []any, any) error {
		return temporal.NewNonRetryableApplicationError("new row violates check constraint", errs.Conflict, nil)
	}
	path := fmt.Sprintf("/v1/ops/loans/%d/recoveries", loan.ID)
	for range 2 {
		a := do(t, p.srv, "POST", path, ops, "recovery-1", `{"amount":"100.00","note":"collected"}`)
		require.Equal(t, 409, a.status, a.raw)
		assert.Equal(t, "conflict", a.body["code"])
	}
}
