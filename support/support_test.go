package support_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/support"
)

// A support case: the investor writes in from their phone; ops find them by
// it (and by e-mail, ID number or id), masked; the page shows the account as
// the ledger and the bank see it, the withdrawal still with the bank, and
// the fund log line by line; the reveal needs a reason and is audited.
func TestSupportCase(t *testing.T) {
	e := testenv.New(t)
	svc := support.New(e.Pool, e.Bank, nil, nil, e.Log)
	require.NoError(t, clock.New(e.Pool, nil, nil, e.Log).Init(e.Ctx, clock.Sandbox, e.Today))
	ops := e.User(lending.RoleOps, "")
	inv := e.Investor("C3", "1000.00")
	other := e.User(lending.RoleBorrower, "")
	noon := e.Today.Add(12 * time.Hour)
	w, err := e.Accounts.Withdraw(e.Ctx, inv.ID, decimal.RequireFromString("300.00"), e.Today, noon)
	require.NoError(t, err)
	require.Equal(t, "processing", w.Status)

	idNumber, err := pii.Open(inv.IDNumber)
	require.NoError(t, err)
	phone, err := pii.Open(inv.Phone)
	require.NoError(t, err)
	for _, q := range []string{phone, " " + phone + " ", idNumber, inv.Email, "INVESTOR2@TEST", "2"} {
		found, err := svc.Search(e.Ctx, q)
		require.NoError(t, err, q)
		require.Len(t, found, 1, q)
		p := found[0]
		assert.Equal(t, inv.ID, p.UserID, q)
		assert.Equal(t, "139****"+phone[7:], p.Phone)
		assert.Equal(t, idNumber[:4]+"**********"+idNumber[14:], p.IDNumber)
		assert.Equal(t, "测*", p.Name)
	}
	found, err := svc.Search(e.Ctx, "13900009999")
	require.NoError(t, err)
	assert.Empty(t, found, "nobody has that phone")
	_, err = svc.Search(e.Ctx, "  ")
	assert.Equal(t, errs.ValidationFailed, errs.Code(err))

	p, err := svc.Page(e.Ctx, inv.ID)
	require.NoError(t, err)
	// 1000.00 recharged; 300.00 gone from the account on its way to the
	// card (the month's first withdrawal is free), the platform and the bank
	// agreeing while the bank has not said it is paid.
	assert.Equal(t, "700.00", p.Account.Available.StringFixed(2))
	assert.Equal(t, "0.00", p.Account.Frozen.StringFixed(2))
	require.NotNil(t, p.Bank, p.BankError)
	assert.Equal(t, "700.00", p.Bank.Available.StringFixed(2))
	assert.Equal(t, "0.00", p.Bank.Frozen.StringFixed(2))
	require.Len(t, p.Withdrawals, 1)
	assert.Equal(t, "processing", p.Withdrawals[0].Status)
	assert.Equal(t, "300.00", p.Withdrawals[0].Amount.StringFixed(2))
	var log []string
	for _, f := range p.FundLog {
		log = append(log, f.Type+" "+f.Amount.StringFixed(2)+" "+f.AvailableAfter.StringFixed(2)+"/"+f.FrozenAfter.StringFixed(2))
	}
	assert.Equal(t, []string{"withdrawal -300.00 700.00/0.00", "recharge 1000.00 1000.00/0.00"}, log, "newest first")
	assert.Empty(t, p.Loans)
	assert.Empty(t, p.Actions)

	_, err = svc.Reveal(e.Ctx, ops.ID, inv.ID, " ")
	assert.Equal(t, errs.ValidationFailed, errs.Code(err), "a reason is required")
	v, err := svc.Reveal(e.Ctx, ops.ID, inv.ID, "customer called about withdrawal")
	require.NoError(t, err)
	assert.Equal(t, idNumber, v.IDNumber)
	assert.Equal(t, phone, v.Phone)
	require.NotNil(t, v.CardNumber)
	assert.Len(t, *v.CardNumber, 18)
	p, err = svc.Page(e.Ctx, inv.ID)
	require.NoError(t, err)
	require.Len(t, p.Actions, 1)
	assert.Equal(t, audit.UserReveal, p.Actions[0].Action)
	assert.Equal(t, ops.ID, p.Actions[0].OpsUserID)
	assert.Equal(t, "customer called about withdrawal", p.Actions[0].Note)

	_, err = svc.Page(e.Ctx, other.ID+100)
	assert.Equal(t, errs.NotFound, errs.Code(err))
	_, _, err = svc.FundLog(e.Ctx, other.ID+100, 0, 10)
	assert.Equal(t, errs.NotFound, errs.Code(err))
	_, err = svc.Reveal(e.Ctx, ops.ID, other.ID+100, "x")
	assert.Equal(t, errs.NotFound, errs.Code(err))
}
