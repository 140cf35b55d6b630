package reconcile_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/reconcile"
)

func TestCleanDayMatchesAndPlantedDifferencesShow(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	_, err := e.Accounts.Withdraw(e.Ctx, u.ID, decimal.RequireFromString("200.00"), e.Today, time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	_, err = e.Accounts.Withdraw(e.Ctx, u.ID, decimal.RequireFromString("100.00"), e.Today, time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC))
	require.NoError(t, err, "the second pays a 3.00 fee")
	later := e.Today.AddDate(0, 0, 1)

	rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, e.Today, later)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Matched, rep.Status, "%+v", rep.Differences)
	pending, err := reconcile.Run(e.Ctx, e.Q, e.Bank, e.Today, e.Today)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Pending, pending.Status, "today's file is not final")

	// The platform books a movement the bank never made, and the bank makes
	// one (a deposit into the bonus account) the platform never booked.
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(e.Ctx, tx, ledger.Transfer("ghost-1", 0, ledger.TypeBonus, ledger.PlatformFee, ledger.UserAvailable(u.ID),
			decimal.RequireFromString("3.00"), "planted", e.Today))
		return err
	}))
	_, err = e.Bank.Deposit(e.Ctx, bank.DepositRequest{RequestNo: "deposit-1", AccountNo: bank.AccountBonus, Amount: decimal.RequireFromString("50.00")})
	require.NoError(t, err)
	rep, err = reconcile.Run(e.Ctx, e.Q, e.Bank, e.Today, later)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Mismatched, rep.Status)
	reasons := map[string]string{}
	for _, d := range rep.Differences {
		reasons[d.RequestNo] = d.Reason
	}
	assert.Equal(t, map[string]string{"ghost-1": "in the ledger, not at the bank", "deposit-1": "at the bank, not in the ledger"}, reasons)

	// Leave the books coherent for the environment's own end-of-test checks.
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(e.Ctx, tx, ledger.Transfer("ghost-1-undo", 0, ledger.TypeBonus, ledger.UserAvailable(u.ID), ledger.PlatformFee,
			decimal.RequireFromString("3.00"), "planted", e.Today))
		return err
	}))
}

// Movements both sides have, but differently: a freeze of another amount
// (only the split between available and frozen shows it) and a transfer the
// ledger books as another kind. Every run is kept.
func TestPlantedAmountAndKindDifferences(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	acct := *u.CustodyAccountNo
	day, later := e.Today, e.Today.AddDate(0, 0, 1)
	ten, hundred := decimal.RequireFromString("10.00"), decimal.RequireFromString("100.00")

	_, err := e.Bank.Freeze(e.Ctx, bank.FreezeRequest{RequestNo: "plant-freeze", AccountNo: acct, Amount: hundred})
	require.NoError(t, err)
	_, err = e.Bank.Transfer(e.Ctx, bank.TransferRequest{RequestNo: "plant-kind", Purpose: "compensation",
		Transfer: bank.Transfer{From: acct, To: bank.AccountRiskReserve, Amount: ten}})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(e.Ctx, tx,
			ledger.Freeze("plant-freeze", u.ID, decimal.RequireFromString("150.00"), "planted", day),
			ledger.Transfer("plant-kind", 0, ledger.TypeBonus, ledger.UserAvailable(u.ID), ledger.PlatformRiskReserve, ten, "planted", day))
		return err
	}))

	rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, day, later)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Mismatched, rep.Status)
	assert.Equal(t, []reconcile.Difference{
		{RequestNo: "plant-freeze", Kind: "freeze", Account: acct, BankAmount: "-100.00", LedgerAmount: "-150.00", Reason: reconcile.ReasonAmountsDiffer},
		{RequestNo: "plant-freeze", Kind: "freeze", Account: acct + " frozen", BankAmount: "100.00", LedgerAmount: "150.00", Reason: reconcile.ReasonAmountsDiffer},
		{RequestNo: "plant-kind", Kind: "compensation", BankAmount: "10.00", LedgerAmount: "10.00", Reason: reconcile.ReasonKindsDiffer + ": the ledger has bonus"},
	}, rep.Differences)

	run, err := e.Q.ReconciliationRunLatest(e.Ctx, day)
	require.NoError(t, err)
	assert.Equal(t, reconcile.Mismatched, run.Status)
	assert.Equal(t, "request", run.Origin)
	var stored []reconcile.Difference
	require.NoError(t, json.Unmarshal(run.Differences, &stored))
	assert.Equal(t, rep.Differences, stored)

	// The worker's close runs the day too, and a mismatched day is not run
	// again before retryAfter.
	reps, err := reconcile.Closer{DB: e.Pool, Bank: e.Bank, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	assert.Equal(t, reconcile.Mismatched, reps[0].Status)
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	assert.Empty(t, reps)
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Log: e.Log, RetryAfter: 0}.Close(e.Ctx, later)
	require.NoError(t, err)
	assert.Len(t, reps, 1, "retried once retryAfter has passed")

	releaseFreeze(t, e, u.ID, "plant-freeze", "150.00", day)
}

// releaseFreeze unfreezes what a test left frozen with no bid behind it, so
// the environment's end-of-test checks (frozen = frozen bids) hold.
func releaseFreeze(t *testing.T, e *testenv.Env, userID int64, freezeNo, ledgerAmount string, day time.Time) {
	t.Helper()
	_, err := e.Bank.Unfreeze(e.Ctx, bank.UnfreezeRequest{RequestNo: freezeNo + "-release", FreezeRequestNo: freezeNo})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(e.Ctx, tx, ledger.Unfreeze(freezeNo+"-release", userID, decimal.RequireFromString(ledgerAmount), "test", day))
		return err
	}))
}

// A day with recharges, freezes, an unfreeze and withdrawals with and
// without a fee matches; closed once, it is not run again.
func TestCleanDayClosesOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "1000.00")
	acct := *u.CustodyAccountNo
	day, later := e.Today, e.Today.AddDate(0, 0, 1)
	for _, no := range []string{"f-1", "f-2"} {
		_, err := e.Bank.Freeze(e.Ctx, bank.FreezeRequest{RequestNo: no, AccountNo: acct, Amount: decimal.RequireFromString("100.00")})
		require.NoError(t, err)
	}
	_, err := e.Bank.Unfreeze(e.Ctx, bank.UnfreezeRequest{RequestNo: "u-1", FreezeRequestNo: "f-1"})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(e.Ctx, tx,
			ledger.Freeze("f-1", u.ID, decimal.RequireFromString("100.00"), "bid:1", day),
			ledger.Freeze("f-2", u.ID, decimal.RequireFromString("100.00"), "bid:2", day),
			ledger.Unfreeze("u-1", u.ID, decimal.RequireFromString("100.00"), "bid:1", day))
		return err
	}))
	for _, amt := range []string{"50.00", "60.00"} {
		_, err := e.Accounts.Withdraw(e.Ctx, u.ID, decimal.RequireFromString(amt), day, time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC))
		require.NoError(t, err)
	}

	// The withdrawals wait for the bank's result (no callbacks here), and
	// the day waits for them.
	reps, err := reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	assert.Empty(t, reps, "a day with results still to come is not closed")
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "the day's withdrawals settled", func() bool {
		_, err := e.Accounts.SettlePending(e.Ctx, 0)
		require.NoError(t, err)
		n, err := e.Q.ReconciliationUnsettledOn(e.Ctx, dbq.ReconciliationUnsettledOnParams{Day: day})
		require.NoError(t, err)
		return n == 0
	})

	// A freeze with no bid behind it would fail the close's ledger audit
	// (frozen = frozen bids): release it on the same day first.
	releaseFreeze(t, e, u.ID, "f-2", "100.00", day)
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	assert.Equal(t, reconcile.Report{Date: day.Format(time.DateOnly), Status: reconcile.Matched, Differences: []reconcile.Difference{},
		Conservation: reconcile.ConservationOK}, reps[0])
	run, err := e.Q.ReconciliationRunLatest(e.Ctx, day)
	require.NoError(t, err)
	assert.Equal(t, "close", run.Origin)
	assert.Equal(t, reconcile.ConservationOK, run.Conservation)
	assert.EqualValues(t, 7, run.LedgerEntries, "recharge, two freezes, two unfreezes, two withdrawals")
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Reversals: e.Accounts, Log: e.Log, RetryAfter: 0}.Close(e.Ctx, later.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Len(t, reps, 1, "only the new day: a matched day is final")
	assert.Equal(t, later.Format(time.DateOnly), reps[0].Date)
}
