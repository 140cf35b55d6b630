package activities_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// fundedLoan: 3,000.00 at 11 % over 3 months, bids 1,000.00 and 2,000.00,
// ready to disburse on 31 January.
func fundedLoan(t *testing.T) (*testenv.Env, *activities.Activities, dbq.Loan, dbq.User, []dbq.User) {
	t.Parallel()
	e := testenv.New(t)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).Return(nil)
	bids := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log)
	borrower := e.User("borrower", "200.00")
	loan := e.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	invs := []dbq.User{e.Investor("C3", "1000.00"), e.Investor("C3", "2500.00")}
	for i, amt := range []string{"1000.00", "2000.00"} {
		_, err := bids.Place(e.Ctx, invs[i].ID, loan.ID, decimal.RequireFromString(amt), e.Today)
		require.NoError(t, err)
	}
	_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	return e, acts, loan, borrower, invs
}

// Disbursement moves every frozen bid to the borrower less the fee (grade C
// 2 % = 60.00) and the reserve (2 % = 60.00); a retry of the same attempt
// moves nothing again.
func TestDisburseOnceEvenWhenRetried(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	in := activities.DisburseInput{LoanID: loan.ID, Attempt: 1, Today: e.Today}
	res, err := acts.Disburse(e.Ctx, in)
	require.NoError(t, err)
	require.True(t, res.Succeeded)
	again, err := acts.Disburse(e.Ctx, in)
	require.NoError(t, err)
	assert.Equal(t, res, again)

	avail, _ := e.Balance(*borrower.CustodyAccountNo)
	assert.Equal(t, "3080.00", avail, "200.00 + 3000.00 − 60.00 − 60.00")
	fee, _ := e.Balance(bank.AccountFee)
	risk, _ := e.Balance(bank.AccountRiskReserve)
	assert.Equal(t, "60.00", fee)
	assert.Equal(t, "60.00", risk)
	for i, want := range []string{"0.00", "500.00"} {
		a, f := e.Balance(*invs[i].CustodyAccountNo)
		assert.Equal(t, want, a)
		assert.Equal(t, "0.00", f)
	}
	require.Len(t, res.Schedule, 3)
	sum, err := ledger.AccountSummary(e.Ctx, e.Pool, invs[1].ID)
	require.NoError(t, err)
	assert.Equal(t, "2000.00", sum.PendingPrincipal.StringFixed(2))
}

// Auto-debit needs an unexpired authorization, and takes at most its
// maximum: what is left stays due and is overdue from the next day. A
// repayment is made once per attempt number; penalty accrues 0.05 % a day on
// what is still unpaid.
func TestRepaymentRules(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	// r = 0.11/12; A = round(3000·r·(1+r)^3/((1+r)^3−1)) = 1018.39; 1: interest round(3000·r) = 27.50, principal 990.89.
	due1 := e.Today.AddDate(0, 0, 28) // 28 Feb
	res, err := acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayAuto, Attempt: 1, Today: due1})
	require.NoError(t, err)
	assert.False(t, res.Paid)
	assert.Equal(t, "authorization_needed", res.Code)

	max := decimal.RequireFromString("1000.00")
	_, err = e.Q.RepaymentAuthorizationUpsert(e.Ctx, dbq.RepaymentAuthorizationUpsertParams{LoanID: loan.ID, MaxAmount: max, ExpiresOn: e.Today.AddDate(1, 0, 0)})
	require.NoError(t, err)
	res, err = acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 21, Kind: lending.RepayAuto, Attempt: 2, Today: due1})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	assert.Equal(t, "1000.00", res.Amount.StringFixed(2), "the authorization's maximum, of 1018.39 due")
	assert.Equal(t, 0, res.Through, "installment 1 is still open")

	// Ten days late by hand: 18.39 of principal left, penalty 10 × round(18.39 × 0.0005) = 10 × 0.01 = 0.10.
	late := due1.AddDate(0, 0, 10)
	in := activities.RepayInput{LoanID: loan.ID, Seq: 31, Kind: lending.RepayNext, Attempt: 3, Today: late}
	res, err = acts.Repay(e.Ctx, in)
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	assert.Equal(t, "18.49", res.Amount.StringFixed(2))
	assert.Equal(t, 1, res.Through)
	again, err := acts.Repay(e.Ctx, in)
	require.NoError(t, err)
	assert.Equal(t, res, again, "a retried attempt answers the first result")

	inst, err := e.Q.InstallmentGet(e.Ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: 1})
	require.NoError(t, err)
	assert.Equal(t, lending.InstallmentPaid, inst.Status)
	assert.Equal(t, "0.10", inst.PaidPenalty.StringFixed(2))
	// Each part goes to the claims pro rata to what each is still owed of it, so
	// both payments together give each claim exactly its planned share:
	// principal 990.89 → 330.30/660.59, interest 27.50 → 9.17/18.33; the
	// penalty 0.10 by the bids 1000/2000 → 0.03/0.07 (the cent to the larger remainder).
	a0, _ := e.Balance(*invs[0].CustodyAccountNo)
	a1, _ := e.Balance(*invs[1].CustodyAccountNo)
	assert.Equal(t, "339.50", a0)
	assert.Equal(t, "1178.99", a1, "500.00 + 660.59 + 18.33 + 0.07")
	bAvail, _ := e.Balance(*borrower.CustodyAccountNo)
	assert.Equal(t, "2061.51", bAvail, "3080.00 − 1018.39 − 0.10")
}

// Payoff ten days into the first 28-day period: all 3,000.00 of principal
// plus round(27.50 × 10/28) = 9.82 of interest; later interest is never owed.
func TestPayoffPaysPrincipalAndAccruedInterest(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	res, err := acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayPayoff, Attempt: 1, Today: e.Today.AddDate(0, 0, 10)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	assert.True(t, res.Finished)
	assert.Equal(t, "3009.82", res.Amount.StringFixed(2))
	// Interest 9.82 among 1000/2000: 3.2733 → 3.27, 6.5466 → 6.54, the cent to the larger remainder.
	for i, want := range []string{"1003.27", "2506.55"} {
		a, _ := e.Balance(*invs[i].CustodyAccountNo)
		assert.Equal(t, want, a)
		sum, err := ledger.AccountSummary(e.Ctx, e.Pool, invs[i].ID)
		require.NoError(t, err)
		assert.True(t, sum.PendingPrincipal.IsZero() && sum.PendingInterest.IsZero(), "nothing pending after payoff: %+v", sum)
	}
	b, _ := e.Balance(*borrower.CustodyAccountNo)
	assert.Equal(t, "70.18", b)
	insts, err := e.Q.InstallmentList(e.Ctx, loan.ID)
	require.NoError(t, err)
	for _, i := range insts {
		assert.Equal(t, lending.InstallmentPaid, i.Status)
	}
}

// TestFundLogsNameNoOtherUser (issue 25, point 5): after a disbursement and
// a repayment, an investor's fund log names the borrower as "borrower of
// loan N", and the borrower's names the investors as "investors of loan N"
// and "claim holders of loan N"; no line carries another user's id, which
// would let an investor link one borrower's loans across masked listings.
func TestFundLogsNameNoOtherUser(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	res, err := acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayNext, Attempt: 1, Today: e.Today.AddDate(0, 0, 28)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)

	of := fmt.Sprintf(" of loan %d", loan.ID)
	lines := func(u dbq.User) map[string]string {
		items, _, err := ledger.FundLog(e.Ctx, e.Pool, u.ID, 0, 50)
		require.NoError(t, err)
		out := map[string]string{}
		for _, it := range items {
			assert.NotContains(t, it.Counterpart, "user:", "%s line of user %d", it.Type, u.ID)
			assert.NotContains(t, it.Ref, "user:", "%s line of user %d", it.Type, u.ID)
			out[it.Type] = it.Counterpart
		}
		return out
	}
	for _, inv := range invs {
		got := lines(inv)
		assert.Equal(t, "borrower"+of, got[ledger.TypeDisbursement], "investor %d", inv.ID)
		assert.Equal(t, "borrower"+of, got[ledger.TypeRepayment], "investor %d", inv.ID)
		assert.Equal(t, "your frozen balance", got[ledger.TypeFreeze])
	}
	got := lines(borrower)
	assert.Equal(t, "investors"+of, got[ledger.TypeDisbursement])
	assert.Equal(t, "claim holders"+of, got[ledger.TypeRepayment])
}
