package activities_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/workflows"
)

// reconciled requires every given business day's file to match the ledger.
func reconciled(t *testing.T, e *testenv.Env, days ...time.Time) {
	t.Helper()
	last := days[len(days)-1]
	for _, d := range days {
		rep, err := reconcile.Run(e.Ctx, e.Q, e.Bank, d, last.AddDate(0, 0, 1))
		require.NoError(t, err)
		require.Equal(t, reconcile.Matched, rep.Status, "%s: %+v", rep.Date, rep.Differences)
	}
}

// The first attempt of the disbursement batch did nothing (the bank was
// down); Temporal retries the activity, with the same input, after the
// bank's day has turned (midnight in wall mode). The bank does the batch on
// D+1 and its file says so; the ledger books it on the date the bank's answer
// carries (bank.Result.BusinessDate), not on the input's Today.
func TestDisbursementRetriedAfterTheBanksDayTurnedIsBookedOnTheBanksDay(t *testing.T) {
	e, acts, loan, _, _ := fundedLoan(t)
	day, next := e.Today, e.Today.AddDate(0, 0, 1)
	in := activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: day}

	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	_, err := acts.Disburse(e.Ctx, in)
	require.Error(t, err, "retryable: nothing was done")
	e.Sim.SetFaults(sim.FaultConfig{})
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	res, err := acts.Disburse(e.Ctx, in)
	require.NoError(t, err)
	require.True(t, res.Succeeded)
	reconciled(t, e, day, next)
}

// The same for a repayment batch.
func TestRepaymentRetriedAfterTheBanksDayTurnedIsBookedOnTheBanksDay(t *testing.T) {
	e, acts, loan, _, _ := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	day := e.Today.AddDate(0, 0, 10)
	next := day.AddDate(0, 0, 1)
	require.NoError(t, e.Bank.SetClock(e.Ctx, day))
	in := activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayNext, Attempt: 1, Today: day}
	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	_, err = acts.Repay(e.Ctx, in)
	require.Error(t, err)
	e.Sim.SetFaults(sim.FaultConfig{})
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	res, err := acts.Repay(e.Ctx, in)
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	reconciled(t, e, e.Today, day, next)
}

// And for the unfreezes of a listing that closed (流标) while the bank's day
// turned under the release.
func TestReleaseRetriedAfterTheBanksDayTurnedIsBookedOnTheBanksDay(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	loan := e.ListedLoan(e.User(lending.RoleBorrower, ""), "2000.00", "C", "0.11", 3, false)
	inv := e.Investor("C3", "500.00")
	tc := mocks.NewClient(t)
	_, err := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log).Place(e.Ctx, inv.ID, loan.ID, decimal.RequireFromString("500.00"), e.Today)
	require.NoError(t, err)

	expiry, next := e.Today.AddDate(0, 0, 7), e.Today.AddDate(0, 0, 8)
	require.NoError(t, e.Bank.SetClock(e.Ctx, expiry))
	in := activities.CloseInput{LoanID: loan.ID, Seq: 1, From: []lending.Status{lending.StatusListed}, To: lending.StatusExpired, Note: "expired", Today: expiry}
	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	_, err = acts.Close(e.Ctx, in)
	require.Error(t, err, "closed, but the release did not reach the bank")
	e.Sim.SetFaults(sim.FaultConfig{})
	require.NoError(t, e.Bank.SetClock(e.Ctx, next))
	res, err := acts.Close(e.Ctx, in)
	require.NoError(t, err)
	assert.True(t, res.Closed)
	assert.Equal(t, 1, res.Released, "the retry finishes the release the first attempt could not")
	avail, frozen := e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, []string{"500.00", "0.00"}, []string{avail, frozen})
	reconciled(t, e, e.Today, expiry, next)
}

// TestRetriedRepaymentAsksTheBankFirst: the bank made the due-date
// auto-debit but its answer was lost (500 after the work). Before the retry,
// the borrower lowers the repayment authorization below the installment. The
// retry asks the bank what became of its request number and books the
// payment; it does not re-decide "authorization needed" (which would leave
// the money moved at the bank, the installment unpaid here, and the next
// attempt paying it again under a new number).
func TestRetriedRepaymentAsksTheBankFirst(t *testing.T) {
	e, acts, loan, _, _ := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	authorize := func(max string) {
		_, err := e.Q.RepaymentAuthorizationUpsert(e.Ctx, dbq.RepaymentAuthorizationUpsertParams{
			LoanID: loan.ID, MaxAmount: decimal.RequireFromString(max), ExpiresOn: e.Today.AddDate(1, 0, 0)})
		require.NoError(t, err)
	}
	authorize("5000.00")
	due := e.Today.AddDate(0, 0, 28)
	in := activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayAuto, Attempt: 1, Today: due}

	e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	_, err = acts.Repay(e.Ctx, in)
	require.Error(t, err, "the bank did it but answered 500")
	e.Sim.SetFaults(sim.FaultConfig{})
	authorize("100.00")

	res, err := acts.Repay(e.Ctx, in)
	require.NoError(t, err)
	require.True(t, res.Paid, "the bank's record decides: %+v", res)
	assert.Equal(t, "1018.39", res.Amount.StringFixed(2))
	inst, err := e.Q.InstallmentGet(e.Ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: 1})
	require.NoError(t, err)
	assert.Equal(t, lending.InstallmentPaid, inst.Status)
	q, err := e.Bank.Query(e.Ctx, bank.RequestNo("loan", loan.ID, "repay", 1))
	require.NoError(t, err)
	assert.Equal(t, bank.StatusSucceeded, q.Status)
	reconciled(t, e, e.Today, due)
}
