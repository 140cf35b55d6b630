package reconcile_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/internal/testenv"
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
