package activities_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// disbursedLoan is fundedLoan disbursed, with an authorization to debit up
// to 5,000.00, and the borrower's available balance set to keep.
func disbursedLoan(t *testing.T, keep string) (*testEnv, dbq.Loan, dbq.User, []dbq.User) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	_, err = e.Q.RepaymentAuthorizationUpsert(e.Ctx, dbq.RepaymentAuthorizationUpsertParams{LoanID: loan.ID,
		MaxAmount: decimal.RequireFromString("5000.00"), ExpiresOn: e.Today.AddDate(1, 0, 0)})
	require.NoError(t, err)
	// 3080.00 after disbursement; take out the rest as a withdrawal would.
	avail, _ := e.Balance(*borrower.CustodyAccountNo)
	out := decimal.RequireFromString(avail).Sub(decimal.RequireFromString(keep))
	if out.Sign() > 0 {
		w, err := e.Accounts.Withdraw(e.Ctx, borrower.ID, out, e.Today, e.Today.Add(10*60*60*1e9))
		require.NoError(t, err)
		require.NotEqual(t, "failed", w.Status)
	}
	return &testEnv{Env: e, acts: acts}, loan, borrower, invs
}

// A due-date auto-debit short of money takes what the available balance
// covers (docs/rules.md "partial payment"): by the waterfall, interest before
// principal, each part pro rata to what each claim is owed; the installment
// stays open and is overdue the next day, its penalty on the unpaid part only.
func TestCollectTakesAPartialPayment(t *testing.T) {
	e, loan, borrower, invs := disbursedLoan(t, "500.00")
	due := e.Today.AddDate(0, 0, 28)
	res, err := e.acts.Collect(e.Ctx, activities.CollectInput{LoanID: loan.ID, Seq: 11, On: due,
		Steps: []lending.Step{lending.StepAutoDebit}, Installment: 1, Attempt: 1})
	require.NoError(t, err)
	require.True(t, res.Repay.Paid)
	assert.Equal(t, "500.00", res.Repay.Amount.StringFixed(2))
	assert.Equal(t, 0, res.Repay.Through, "installment 1 is still open")
	assert.Equal(t, lending.StatusRepaying, res.Status)
	a0, _ := e.Balance(*invs[0].CustodyAccountNo)
	a1, _ := e.Balance(*invs[1].CustodyAccountNo)
	// Interest 27.50 → 9.17 / 18.33; principal 472.50 of 990.89 pro rata to 330.30 / 660.59:
	// 157.50 / 315.00 (157.4999… and 314.9999…, the last cents to the larger remainders).
	assert.Equal(t, "166.67", a0, "9.17 + 157.50")
	assert.Equal(t, "833.33", a1, "500.00 + 18.33 + 315.00")

	// The next day it is overdue; the penalty is on 518.39, the unpaid principal: round(518.39 × 0.0005) = 0.26.
	next := due.AddDate(0, 0, 1)
	res, err = e.acts.Collect(e.Ctx, activities.CollectInput{LoanID: loan.ID, Seq: 21, On: next,
		Steps: []lending.Step{lending.StepAutoDebit, lending.StepMarkOverdue, lending.StepM1}, Installment: 1, DPD: 1, Attempt: 2})
	require.NoError(t, err)
	assert.False(t, res.Repay.Paid, "nothing left to take")
	assert.Equal(t, lending.StatusOverdue, res.Status)
	inst, err := e.Q.InstallmentGet(e.Ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: 1})
	require.NoError(t, err)
	assert.Equal(t, lending.InstallmentOverdue, inst.Status)
	assert.Equal(t, "472.50", inst.PaidPrincipal.StringFixed(2))
	assert.Equal(t, "27.50", inst.PaidInterest.StringFixed(2))
	assert.Equal(t, "0.26", inst.Penalty.StringFixed(2))
	notes, err := e.Q.NotificationListByUser(e.Ctx, dbq.NotificationListByUserParams{UserID: borrower.ID, Today: next, Lim: 50})
	require.NoError(t, err)
	var kinds []string
	for _, n := range notes {
		kinds = append(kinds, n.Kind)
	}
	assert.Contains(t, kinds, string(lending.NoticeRepaymentReceived))
	assert.Contains(t, kinds, string(lending.NoticeRepaymentFailed))
	assert.Contains(t, kinds, string(lending.NoticeOverdue))
	sum, err := ledger.AccountSummary(e.Ctx, e.Pool, invs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "842.50", sum.PendingPrincipal.StringFixed(2), "1000.00 lent, 157.50 of it back")
}

// M3 with a guarantor whose balance does not cover what the investors are
// owed: it pays what it has, by the same waterfall, and holds that part; the
// investors keep the rest of their claims.
func TestGuarantorCompensatesWhatItsBalanceCovers(t *testing.T) {
	e, loan, _, invs := disbursedLoan(t, "0.00")
	g := e.User(lending.RoleGuarantor, "600.00")
	_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET guarantor_id = $2, status = 'overdue' WHERE id = $1`, loan.ID, g.ID)
	require.NoError(t, err)
	m3 := e.Today.AddDate(0, 0, 28+61) // DPD 61 of installment 1; installment 2 (31 March) is 29 days past due
	res, err := e.acts.Collect(e.Ctx, activities.CollectInput{LoanID: loan.ID, Seq: 31, On: m3,
		Steps: []lending.Step{lending.StepAutoDebit, lending.StepM3}, Installment: 1, DPD: 61, Attempt: 1})
	require.NoError(t, err)
	assert.False(t, res.Repay.Paid)
	ga, _ := e.Balance(*g.CustodyAccountNo)
	assert.Equal(t, "0.00", ga, "all 600.00 it had")
	inst, err := e.Q.InstallmentGet(e.Ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: 1})
	require.NoError(t, err)
	assert.Equal(t, "600.00", inst.Compensated.StringFixed(2), "the oldest installment first")
	a0, _ := e.Balance(*invs[0].CustodyAccountNo)
	a1, _ := e.Balance(*invs[1].CustodyAccountNo)
	got := decimal.RequireFromString(a0).Add(decimal.RequireFromString(a1))
	assert.Equal(t, "1100.00", got.StringFixed(2), "500.00 the second investor kept + the 600.00")
	comp, err := e.Q.GuaranteeListByGuarantor(e.Ctx, &g.ID)
	require.NoError(t, err)
	require.Len(t, comp, 1)
	assert.Equal(t, "600.00", comp[0].Compensated.StringFixed(2))

	// Each investor's fund log shows the compensation as a line of its own,
	// owed after it what the account says is still owed.
	var paid decimal.Decimal
	for i, inv := range invs {
		lines := fundLog(t, e.Env, inv)
		assert.Equal(t, []string{ledger.TypeCompensation, ledger.TypeCompensation}, []string{lines[0].typ, lines[0].kind}, "investor %d", i)
		sum, err := ledger.AccountSummary(e.Ctx, e.Pool, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, sum.PendingPrincipal.Add(sum.PendingInterest).Add(sum.PendingBonus).StringFixed(2), lines[0].pending, "investor %d", i)
		assert.True(t, decimal.RequireFromString(lines[0].pending).LessThan(decimal.RequireFromString(lines[1].pending)), "investor %d owed less", i)
		paid = paid.Add(decimal.RequireFromString(lines[0].amount))
	}
	assert.Equal(t, "600.00", paid.StringFixed(2))

	// The guarantor now holds what it paid of installment 1 (docs/rules.md
	// "Claim holders"): 61 days of penalty, 61 × round(1,018.39 × 0.05 %) =
	// 31.11, were paid first and are not owed back as a claim; interest
	// 27.50 and principal 600.00 − 31.11 − 27.50 = 541.39 are: 568.89.
	gl := fundLog(t, e.Env, g)
	assert.Equal(t, fundLine{ledger.TypeCompensation, ledger.TypeCompensation, "-600.00", "0.00", "0.00", "568.89"}, gl[0])
	gs, err := ledger.AccountSummary(e.Ctx, e.Pool, g.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"541.39", "27.50"}, []string{gs.PendingPrincipal.StringFixed(2), gs.PendingInterest.StringFixed(2)})
}

type testEnv struct {
	*testenv.Env
	acts *activities.Activities
}
