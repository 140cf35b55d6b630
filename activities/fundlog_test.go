package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// fundLine is a fund-log line as the page shows it.
type fundLine struct{ typ, kind, amount, available, frozen, pending string }

func fundLog(t *testing.T, e *testenv.Env, u dbq.User) []fundLine {
	t.Helper()
	items, _, err := ledger.FundLog(e.Ctx, e.Pool, u.ID, 0, 50)
	require.NoError(t, err)
	out := make([]fundLine, len(items))
	for i, it := range items {
		out[i] = fundLine{it.Type, it.Kind, it.Amount.StringFixed(2), it.AvailableAfter.StringFixed(2),
			it.FrozenAfter.StringFixed(2), it.PendingReceivableAfter.StringFixed(2)}
	}
	return out
}

// docs/money.md "Fund log": the disbursement is the borrower's gross amount,
// service fee and risk-reserve contribution as three lines; a repayment is
// principal, interest and penalty, each a line of its own for the borrower
// and for each holder; every line carries what the holder is still owed
// after it (pending_receivable_after). A line merged with another fails here.
//
// The loan (fundedLoan): 3,000.00 at 11 % over 3 months from 31 Jan, bids
// 1,000.00 and 2,000.00, grade C: fee 2 % = 60.00, reserve 2 % = 60.00.
// Schedule (r = 0.11/12, A = 1018.39): 1. 990.89 + 27.50; 2. 999.97 +
// 18.42; 3. 1009.14 + 9.25. The first investor's shares (a third, largest
// remainder): principal 330.30, 333.32, 336.38 (the rest of its 1,000.00),
// interest 9.17, 6.14, 3.08: 1,018.39 owed at disbursement. The second's:
// principal 660.59, 666.65, 672.76, interest 18.33, 12.28, 6.17: 2,036.78.
// Installment 2 is paid 10 days late: penalty 10 × round(1018.39 × 0.05 %)
// = 10 × 0.51 = 5.10, split by the bids 1.70 / 3.40.
func TestFundLogLinesAndPendingReceivable(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	res, err := acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayNext, Attempt: 1, Today: e.Today.AddDate(0, 0, 28)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	require.Equal(t, "1018.39", res.Amount.StringFixed(2))
	late := e.Today.AddDate(0, 2, 10) // 10 April; installment 2 was due 31 March
	res, err = acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 21, Kind: lending.RepayNext, Attempt: 2, Today: late})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	require.Equal(t, "1023.49", res.Amount.StringFixed(2), "1018.39 + 5.10 penalty")

	assert.Equal(t, []fundLine{
		{ledger.TypeRepayment, ledger.KindPenalty, "-5.10", "1038.12", "0.00", "0.00"},
		{ledger.TypeRepayment, ledger.KindInterest, "-18.42", "1043.22", "0.00", "0.00"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "-999.97", "1061.64", "0.00", "0.00"},
		{ledger.TypeRepayment, ledger.KindInterest, "-27.50", "2061.61", "0.00", "0.00"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "-990.89", "2089.11", "0.00", "0.00"},
		{ledger.TypeDisbursement, ledger.KindRiskReserve, "-60.00", "3080.00", "0.00", "0.00"},
		{ledger.TypeDisbursement, ledger.KindServiceFee, "-60.00", "3140.00", "0.00", "0.00"},
		{ledger.TypeDisbursement, ledger.TypeDisbursement, "3000.00", "3200.00", "0.00", "0.00"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "200.00", "200.00", "0.00", "0.00"},
	}, fundLog(t, e, borrower), "the borrower: gross, fee and reserve; each repayment's parts")

	assert.Equal(t, []fundLine{
		{ledger.TypeRepayment, ledger.KindPenalty, "1.70", "680.63", "0.00", "339.46"},
		{ledger.TypeRepayment, ledger.KindInterest, "6.14", "678.93", "0.00", "339.46"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "333.32", "672.79", "0.00", "345.60"},
		{ledger.TypeRepayment, ledger.KindInterest, "9.17", "339.47", "0.00", "678.92"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "330.30", "330.30", "0.00", "688.09"},
		{ledger.TypeDisbursement, ledger.TypeDisbursement, "-1000.00", "0.00", "0.00", "1018.39"},
		{ledger.TypeFreeze, ledger.TypeFreeze, "-1000.00", "0.00", "1000.00", "0.00"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "1000.00", "1000.00", "0.00", "0.00"},
	}, fundLog(t, e, invs[0]), "the first investor: 1018.39 owed from the disbursement, less each part received")

	second := fundLog(t, e, invs[1])
	require.Len(t, second, 8)
	assert.Equal(t, []string{"678.93", "678.93", "691.21", "1357.86", "1376.19", "2036.78", "0.00", "0.00"}, pendings(second))

	// The last line's pending receivable is the account's: what is still owed now.
	for i, inv := range invs {
		sum, err := ledger.AccountSummary(e.Ctx, e.Pool, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, sum.PendingPrincipal.Add(sum.PendingInterest).Add(sum.PendingBonus).StringFixed(2), fundLog(t, e, inv)[0].pending, "investor %d", i)
	}
}

func pendings(lines []fundLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.pending
	}
	return out
}

// An interest coupon's expected bonus is pending receivable from the
// disbursement until the bonus account pays it, a line of its own (docs/coupons.md).
// The second bid (2,000.00) carries +2 % for 2 months: bonuses round(2,000.00
// × 0.02 / 12) = 3.33 and round(1,339.41 × 0.02 / 12) = 2.23, so 2,036.78 +
// 5.56 = 2,042.34 is owed at disbursement.
func TestFundLogCountsTheCouponBonus(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	today := func(context.Context) (time.Time, error) { return e.Today, nil }
	svc := coupons.New(e.Pool, e.Bank, today, e.Log)
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).Return(nil).Maybe()
	bids := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	_, err := svc.TopUp(e.Ctx, 0, "", decimal.RequireFromString("1000.00"))
	require.NoError(t, err)
	inv0, inv1 := e.Investor("C3", "1000.00"), e.Investor("C3", "2500.00")
	boost, err := svc.Grant(e.Ctx, coupons.Grant{UserID: inv1.ID, Kind: coupons.Interest, ExtraRate: decimal.RequireFromString("0.02"),
		Months: 2, MinBid: decimal.RequireFromString("1000.00"), ExpiresOn: e.Today.AddDate(0, 1, 0)})
	require.NoError(t, err)
	loan := e.ListedLoan(e.User("borrower", "200.00"), "3000.00", "C", "0.11", 3, false)
	_, err = bids.Place(e.Ctx, inv0.ID, loan.ID, decimal.RequireFromString("1000.00"), e.Today)
	require.NoError(t, err)
	_, err = bids.PlaceWithCoupon(e.Ctx, "", inv1.ID, loan.ID, decimal.RequireFromString("2000.00"), e.Today, boost.ID)
	require.NoError(t, err)
	_, err = e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	_, err = acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	assert.Equal(t, "2042.34", fundLog(t, e, inv1)[0].pending, "2036.78 + 3.33 + 2.23")

	res, err := acts.Repay(e.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayNext, Attempt: 1, Today: e.Today.AddDate(0, 0, 28)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	lines := fundLog(t, e, inv1)
	require.GreaterOrEqual(t, len(lines), 3)
	// Newest first: the bonus, then the repayment's interest and principal.
	assert.Equal(t, []fundLine{
		{ledger.TypeBonus, ledger.TypeBonus, "3.33", "1182.25", "0.00", "1360.09"},
		{ledger.TypeRepayment, ledger.KindInterest, "18.33", "1178.92", "0.00", "1363.42"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "660.59", "1160.59", "0.00", "1381.75"},
	}, lines[:3], "2042.34 − 660.59 − 18.33, then − 3.33 when paid")
	sum, err := ledger.AccountSummary(e.Ctx, e.Pool, inv1.ID)
	require.NoError(t, err)
	assert.Equal(t, "2.23", sum.PendingBonus.StringFixed(2))
}

// Entries that move no claim (a freeze, a recharge) take no snapshot of the
// pending receivable (migration 0039: the bids' hot path); their lines show the
// latest before them. A write-off moves no money but lowers what the holders
// are owed: its mark, left as its transaction commits, is what the next such
// line shows, while the lines before it keep theirs.
func TestFundLogAfterAWriteOff(t *testing.T) {
	e, acts, loan, _, invs := fundedLoan(t)
	_, err := acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	rc, err := e.Accounts.Recharge(e.Ctx, invs[0].ID, decimal.RequireFromString("50.00"), e.Today)
	require.NoError(t, err)
	require.Equal(t, "succeeded", rc.Status)

	// The write-off's own transaction, as activities.WriteOff leaves the rows.
	tx, err := e.Pool.Begin(e.Ctx)
	require.NoError(t, err)
	_, err = tx.Exec(e.Ctx, `UPDATE installments SET status = 'written_off' WHERE loan_id = $1`, loan.ID)
	require.NoError(t, err)
	_, err = tx.Exec(e.Ctx, `UPDATE loans SET status = 'written_off' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(e.Ctx))

	rc, err = e.Accounts.Recharge(e.Ctx, invs[0].ID, decimal.RequireFromString("20.00"), e.Today)
	require.NoError(t, err)
	require.Equal(t, "succeeded", rc.Status)
	assert.Equal(t, []fundLine{
		{ledger.TypeRecharge, ledger.TypeRecharge, "20.00", "70.00", "0.00", "0.00"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "50.00", "50.00", "0.00", "1018.39"},
		{ledger.TypeDisbursement, ledger.TypeDisbursement, "-1000.00", "0.00", "0.00", "1018.39"},
		{ledger.TypeFreeze, ledger.TypeFreeze, "-1000.00", "0.00", "1000.00", "0.00"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "1000.00", "1000.00", "0.00", "0.00"},
	}, fundLog(t, e, invs[0]), "the recharge after the write-off shows nothing more to come; the one before, the loan's 1018.39")
	var snapshots int
	require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM receivable_snapshots s JOIN journal_entries j ON j.id = s.entry_id
		WHERE s.user_id = $1 AND NOT s.mark AND j.type IN ('freeze', 'recharge')`, invs[0].ID).Scan(&snapshots))
	assert.Zero(t, snapshots, "a freeze or a recharge takes no snapshot")
}
