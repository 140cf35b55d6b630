package coupons_test

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
	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

type world struct {
	*testenv.Env
	svc  *coupons.Service
	bids *bidding.Service
	acts *activities.Activities
}

func newWorld(t *testing.T) *world {
	t.Parallel()
	e := testenv.New(t)
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).Return(nil).Maybe()
	today := func(context.Context) (time.Time, error) { return e.Today, nil }
	return &world{Env: e, svc: coupons.New(e.Pool, e.Bank, today, e.Log),
		bids: bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log), acts: activities.New(e.Pool, e.Bank, e.Log, false)}
}

func (w *world) bonusBooks(t *testing.T) (bankSide, ledgerSide string) {
	b, _ := w.Balance(bank.AccountBonus)
	l, err := w.Q.BonusAccountAvailable(w.Ctx)
	require.NoError(t, err)
	return b, l.StringFixed(2)
}

// pendingAfterEachEntry is "type pending" for each journal entry that
// touched the user's balances after their recharge, in order.
func (w *world) pendingAfterEachEntry(t *testing.T, userID int64) []string {
	rows, err := w.Pool.Query(w.Ctx, `SELECT DISTINCT e.id, e.type, e.at FROM journal_entries e
		JOIN postings p ON p.entry_id = e.id JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.user_id = $1 AND e.type <> 'recharge' ORDER BY e.id`, userID)
	require.NoError(t, err)
	type entry struct {
		typ string
		at  time.Time
	}
	var entries []entry
	for rows.Next() {
		var id int64
		var e entry
		require.NoError(t, rows.Scan(&id, &e.typ, &e.at))
		entries = append(entries, e)
	}
	require.NoError(t, rows.Err())
	var out []string
	for _, e := range entries {
		p, err := coupons.PendingBonusAt(w.Ctx, w.Q, userID, e.at)
		require.NoError(t, err)
		out = append(out, e.typ+" "+p.StringFixed(2))
	}
	return out
}

// couponEvents is the coupon family's events, in the order written.
func (w *world) couponEvents(t *testing.T) []string {
	rows, err := w.Pool.Query(w.Ctx, `SELECT type FROM events WHERE type LIKE 'coupon.%' ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ string
		require.NoError(t, rows.Scan(&typ))
		out = append(out, typ)
	}
	require.NoError(t, rows.Err())
	return out
}

func (w *world) payments(t *testing.T, loanID int64) []string {
	rows, err := w.Q.CouponPaymentsByLoan(w.Ctx, loanID)
	require.NoError(t, err)
	var out []string
	for _, p := range rows {
		s := p.Amount.StringFixed(2) + " " + p.Status
		if p.RequestNo != nil {
			s += " " + *p.RequestNo
		}
		out = append(out, s)
	}
	return out
}

// A coupon's life with its loan's (docs/coupons.md): 3,000.00 at 11 % over
// 3 months (equal installments), bids of 1,000.00 with a cash coupon of
// 20.00 and 2,000.00 with an interest coupon of +2 % for 2 months.
//
// The claim of 2,000.00 holds 660.59 of installment 1's principal, so its
// bonuses are round(2,000.00 × 0.02 / 12) = 3.33 and round(1,339.41 × 0.02 /
// 12) = round(2.23235) = 2.23; installment 3 is outside the coupon's months.
// Paid off on 10 March, 10 days into the 31-day period from 28 February, the
// second bonus accrues round(2.23 × 10 / 31) = round(0.7194) = 0.72.
func TestCouponsFollowTheirLoan(t *testing.T) {
	w := newWorld(t)
	inv0, inv1 := w.Investor("C3", "1100.00"), w.Investor("C3", "2500.00")
	expires := w.Today.AddDate(0, 1, 0)

	// Nothing in the bonus account: no headroom for a grant.
	_, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv0.ID, Kind: coupons.Cash, Amount: d("20.00"), MinBid: d("500.00"), ExpiresOn: expires})
	require.Equal(t, errs.BonusBudgetExceeded, errs.Code(err), "%v", err)

	top, err := w.svc.TopUp(w.Ctx, 0, "", d("1000.00"))
	require.NoError(t, err)
	assert.Equal(t, "succeeded", top.Status)
	cash, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv0.ID, Kind: coupons.Cash, Amount: d("20.00"), MinBid: d("500.00"), ExpiresOn: expires})
	require.NoError(t, err)
	boost, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv1.ID, Kind: coupons.Interest, ExtraRate: d("0.02"), Months: 2,
		MinBid: d("1000.00"), ExpiresOn: expires})
	require.NoError(t, err)
	// Liabilities 20.00 + round(200,000.00 × 0.02 × 2 / 12) = 666.67: 686.67, headroom 313.33.
	b, err := w.svc.Budget(w.Ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"1000.00", "686.67", "313.33"}, []string{b.Available.StringFixed(2), b.Liabilities.StringFixed(2), b.Headroom.StringFixed(2)})
	_, err = w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv0.ID, Kind: coupons.Cash, Amount: d("313.34"), ExpiresOn: expires})
	require.Equal(t, errs.BonusBudgetExceeded, errs.Code(err), "a fen over the headroom")

	borrower := w.User(lending.RoleBorrower, "200.00")
	loan := w.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	// Every refusal is coupon_not_usable and freezes nothing.
	for _, c := range []struct {
		who      dbq.User
		amount   string
		couponID int64
		detail   string
	}{
		{inv0, "1000.00", boost.ID, coupons.ReasonNotYours},
		{inv1, "900.00", boost.ID, coupons.ReasonMinimum},
		{inv0, "1000.00", 999999, coupons.ReasonNotYours},
	} {
		_, err := w.bids.PlaceWithCoupon(w.Ctx, "", c.who.ID, loan.ID, d(c.amount), w.Today, c.couponID)
		require.Equal(t, errs.CouponNotUsable, errs.Code(err), "%v", err)
		assert.Contains(t, err.Error(), c.detail)
		_, frozen := w.Balance(*c.who.CustodyAccountNo)
		assert.Equal(t, "0.00", frozen)
	}
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv0.ID, loan.ID, d("1000.00"), w.Today, cash.ID)
	require.NoError(t, err)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv0.ID, loan.ID, d("100.00"), w.Today, cash.ID)
	require.Equal(t, errs.CouponNotUsable, errs.Code(err), "%v", err)
	assert.Contains(t, err.Error(), coupons.ReasonUsed)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv1.ID, loan.ID, d("2000.00"), w.Today, boost.ID)
	require.NoError(t, err)
	mine, err := w.svc.List(w.Ctx, inv1.ID)
	require.NoError(t, err)
	assert.Equal(t, coupons.Reserved, mine[0].Status)

	_, err = w.Pool.Exec(w.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	in := activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: w.Today}
	_, err = w.acts.Disburse(w.Ctx, in)
	require.NoError(t, err)
	_, err = w.acts.Disburse(w.Ctx, in)
	require.NoError(t, err, "the step retried pays nothing twice")
	a0, _ := w.Balance(*inv0.CustodyAccountNo)
	assert.Equal(t, "120.00", a0, "100.00 not bid + the cash coupon, paid at disbursement")
	assert.Equal(t, []string{
		"20.00 paid " + bank.BonusPayment(loan.ID, 0, cash.ID, 1),
		"3.33 planned", "2.23 planned",
	}, w.payments(t, loan.ID))
	summary, err := ledger.AccountSummary(w.Ctx, w.Pool, inv1.ID)
	require.NoError(t, err)
	assert.Equal(t, "5.56", summary.PendingBonus.StringFixed(2), "the boost record: 3.33 + 2.23 still to come")

	// Installment 1's auto-debit pays the bonus in the same step.
	_, err = w.Q.RepaymentAuthorizationUpsert(w.Ctx, dbq.RepaymentAuthorizationUpsertParams{LoanID: loan.ID, MaxAmount: d("5000.00"),
		ExpiresOn: w.Today.AddDate(1, 0, 0)})
	require.NoError(t, err)
	due1 := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	res, err := w.acts.Repay(w.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayAuto, Attempt: 1, Today: due1})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	// Paid off on 10 March: the current bonus by days, the rest lapse.
	res, err = w.acts.Repay(w.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 21, Kind: lending.RepayPayoff, Attempt: 2,
		Today: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	assert.Equal(t, []string{
		"20.00 paid " + bank.BonusPayment(loan.ID, 0, cash.ID, 1),
		"3.33 paid " + bank.BonusPayment(loan.ID, 1, boost.ID, 1),
		"0.72 paid " + bank.BonusPayment(loan.ID, 2, boost.ID, 1),
	}, w.payments(t, loan.ID))
	// The bonus still to come after each of the investor's entries (a fund
	// log's rows): the boost record at the disbursement, down with each reward,
	// to the accrued part at the payoff.
	assert.Equal(t, []string{
		"freeze 0.00", "disbursement 5.56", "repayment 5.56", "bonus 2.23", "repayment 0.72", "bonus 0.00",
	}, w.pendingAfterEachEntry(t, inv1.ID))
	bankSide, ledgerSide := w.bonusBooks(t)
	assert.Equal(t, "975.95", bankSide, "1,000.00 − 20.00 − 3.33 − 0.72")
	assert.Equal(t, bankSide, ledgerSide, "the bonus account's ledger equals the bank")
	var notices int
	require.NoError(t, w.Pool.QueryRow(w.Ctx, `SELECT count(*) FROM notifications WHERE kind = 'coupon_paid'`).Scan(&notices))
	assert.Equal(t, 3, notices)
	assert.Equal(t, []string{"coupon.granted", "coupon.granted", "coupon.reserved", "coupon.reserved", "coupon.used", "coupon.used"},
		w.couponEvents(t), "the refusals wrote none")
	require.NoError(t, w.Pool.QueryRow(w.Ctx, `SELECT count(*) FROM notifications WHERE kind = 'coupon_granted'`).Scan(&notices))
	assert.Equal(t, 2, notices)
}

// A listing that never disburses gives its bids' coupons back; the business
// clock expires the unused ones past their last day.
func TestCouponsComeBackAndExpire(t *testing.T) {
	w := newWorld(t)
	inv := w.Investor("C3", "1000.00")
	_, err := w.svc.TopUp(w.Ctx, 0, "", d("100.00"))
	require.NoError(t, err)
	c, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv.ID, Kind: coupons.Cash, Amount: d("10.00"), ExpiresOn: w.Today.AddDate(0, 0, 3)})
	require.NoError(t, err)
	borrower := w.User(lending.RoleBorrower, "10.00")
	loan := w.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	bid, err := w.bids.PlaceWithCoupon(w.Ctx, "", inv.ID, loan.ID, d("500.00"), w.Today, c.ID)
	require.NoError(t, err)
	row, err := w.Q.BidGet(w.Ctx, bid.ID)
	require.NoError(t, err)
	require.NoError(t, bidding.Release(w.Ctx, w.Pool, w.Bank, row, w.Today))
	got, err := w.Q.CouponGet(w.Ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "unused", got.Status)
	assert.Nil(t, got.BidID)

	assert.Equal(t, []string{"coupon.granted", "coupon.reserved", "coupon.released"}, w.couponEvents(t))
	n, err := coupons.Expire(w.Ctx, w.Q, w.Today.AddDate(0, 0, 3))
	require.NoError(t, err)
	assert.Zero(t, n, "usable through its last day")
	n, err = coupons.Expire(w.Ctx, w.Q, w.Today.AddDate(0, 0, 4))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv.ID, loan.ID, d("500.00"), w.Today.AddDate(0, 0, 4), c.ID)
	require.Equal(t, errs.CouponNotUsable, errs.Code(err), "%v", err)
}

// A bonus the bank refuses (the bonus account short) stops nobody's
// repayment: the payment is failed, an ops task, its investor told; ops top
// the account up and retry it under the next attempt's number.
func TestARefusedBonusIsAnOpsTask(t *testing.T) {
	w := newWorld(t)
	inv := w.Investor("C3", "3000.00")
	// A coupon granted beyond the budget (as a bank-side shortfall would
	// leave it): written directly, past the grant's check.
	face := d("15.00")
	c, err := w.Q.CouponInsert(w.Ctx, dbq.CouponInsertParams{UserID: inv.ID, Kind: "cash", Amount: &face, MinBid: decimal.Zero,
		ExpiresOn: w.Today, Most: face, GrantedOn: w.Today})
	require.NoError(t, err)
	borrower := w.User(lending.RoleBorrower, "200.00")
	loan := w.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv.ID, loan.ID, d("3000.00"), w.Today, c.ID)
	require.NoError(t, err)
	_, err = w.Pool.Exec(w.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	res, err := w.acts.Disburse(w.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: w.Today})
	require.NoError(t, err)
	require.True(t, res.Succeeded, "the disbursement goes on")
	failed, err := w.svc.Failed(w.Ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, bank.CodeInsufficientBalance, failed[0].FailureCode)
	var notices int
	require.NoError(t, w.Pool.QueryRow(w.Ctx, `SELECT count(*) FROM notifications WHERE kind = 'bonus_payment_failed' AND user_id = $1`, inv.ID).Scan(&notices))
	assert.Equal(t, 1, notices)
	assert.Equal(t, []string{"coupon.reserved", "coupon.used", "coupon.payment_failed"}, w.couponEvents(t))

	ops := w.User(lending.RoleOps, "")
	_, err = w.svc.TopUp(w.Ctx, ops.ID, "", d("15.00"))
	require.NoError(t, err)
	p, err := w.svc.Retry(w.Ctx, ops.ID, failed[0].ID)
	require.NoError(t, err)
	logged, err := audit.List(w.Ctx, w.Q, audit.Filter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, logged, 2, "ops' top-up and retry are audited")
	assert.Equal(t, []string{"bonus_payment_retry " + audit.CouponPayment(failed[0].ID), "bonus_top_up bonus_account"},
		[]string{string(logged[0].Action) + " " + logged[0].Target, string(logged[1].Action) + " " + logged[1].Target})
	assert.Equal(t, []string{"paid", bank.BonusPayment(loan.ID, 0, c.ID, 2)}, []string{p.Status, p.RequestNo})
	a, _ := w.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "15.00", a)
	bankSide, ledgerSide := w.bonusBooks(t)
	assert.Equal(t, []string{"0.00", "0.00"}, []string{bankSide, ledgerSide})
}

// At M3 the risk reserve's compensation pays the investor installment 1's
// interest in full, so its bonus is paid in that step; the write-off then
// lapses the later ones. 3,000.00 at 11 % over 3 months, one bid of 3,000.00
// with +2 % for 3 months: bonuses round(3,000.00 × 0.02 / 12) = 5.00,
// round(2,009.11 × 0.02 / 12) = 3.35, round(1,009.14 × 0.02 / 12) = 1.68.
// The reserve holds the disbursement's 60.00: by the waterfall, installment
// 1's penalty, then its interest 27.50 in full, then some of its principal.
func TestCompensationPaysTheBonusAndAWriteOffLapsesTheRest(t *testing.T) {
	w := newWorld(t)
	inv := w.Investor("C3", "3000.00")
	_, err := w.svc.TopUp(w.Ctx, 0, "", d("1000.00"))
	require.NoError(t, err)
	c, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv.ID, Kind: coupons.Interest, ExtraRate: d("0.02"), Months: 3, ExpiresOn: w.Today})
	require.NoError(t, err)
	borrower := w.User(lending.RoleBorrower, "200.00")
	loan := w.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv.ID, loan.ID, d("3000.00"), w.Today, c.ID)
	require.NoError(t, err)
	_, err = w.Pool.Exec(w.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	_, err = w.acts.Disburse(w.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: w.Today})
	require.NoError(t, err)
	assert.Equal(t, []string{"5.00 planned", "3.35 planned", "1.68 planned"}, w.payments(t, loan.ID))

	_, err = w.Pool.Exec(w.Ctx, `UPDATE loans SET status = 'overdue' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	m3 := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC) // DPD 61 of installment 1, due 28 February
	_, err = w.acts.Collect(w.Ctx, activities.CollectInput{LoanID: loan.ID, Seq: 31, On: m3,
		Steps: []lending.Step{lending.StepAutoDebit, lending.StepM3}, Installment: 1, DPD: 61, Attempt: 1})
	require.NoError(t, err)
	inst, err := w.Q.InstallmentGet(w.Ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: 1})
	require.NoError(t, err)
	require.Equal(t, "60.00", inst.Compensated.StringFixed(2), "all the reserve had")
	require.NoError(t, w.acts.WriteOff(w.Ctx, activities.WriteOffInput{LoanID: loan.ID, Seq: 41, Note: "uncollectable", Today: m3.AddDate(0, 0, 30)}))
	assert.Equal(t, []string{
		"5.00 paid " + bank.BonusPayment(loan.ID, 1, c.ID, 1), "3.35 lapsed", "1.68 lapsed",
	}, w.payments(t, loan.ID))
	summary, err := ledger.AccountSummary(w.Ctx, w.Pool, inv.ID)
	require.NoError(t, err)
	assert.True(t, summary.PendingBonus.IsZero(), "nothing more to come")
	bankSide, ledgerSide := w.bonusBooks(t)
	assert.Equal(t, []string{"995.00", "995.00"}, []string{bankSide, ledgerSide})
}

// Grants made at once never together spend more than the headroom: of five
// grants of 100.00 on a headroom of 100.00 exactly one is made.
func TestGrantsAtOnceSpendTheHeadroomOnce(t *testing.T) {
	w := newWorld(t)
	inv := w.Investor("C3", "")
	_, err := w.svc.TopUp(w.Ctx, 0, "", d("100.00"))
	require.NoError(t, err)
	errsCh := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv.ID, Kind: coupons.Cash, Amount: d("100.00"), ExpiresOn: w.Today})
			errsCh <- err
		}()
	}
	granted := 0
	for range 5 {
		if err := <-errsCh; err == nil {
			granted++
		} else {
			require.Equal(t, errs.BonusBudgetExceeded, errs.Code(err), "%v", err)
		}
	}
	assert.Equal(t, 1, granted)
	b, err := w.svc.Budget(w.Ctx)
	require.NoError(t, err)
	assert.Equal(t, "0.00", b.Headroom.StringFixed(2))
}

// Ops' top-up and grant sent again under their Idempotency-Key (the API died
// before answering) find what the key made: the money moves once, one coupon
// is granted; the key with another amount is idempotency_key_reused.
func TestTopUpAndGrantSentAgainMakeOnce(t *testing.T) {
	w := newWorld(t)
	ops, inv := w.User(lending.RoleOps, ""), w.Investor("C3", "")
	first, err := w.svc.TopUp(w.Ctx, ops.ID, "top-1", d("100.00"))
	require.NoError(t, err)
	again, err := w.svc.TopUp(w.Ctx, ops.ID, "top-1", d("100.00"))
	require.NoError(t, err)
	assert.Equal(t, first, again)
	_, err = w.svc.TopUp(w.Ctx, ops.ID, "top-1", d("200.00"))
	require.Equal(t, errs.IdempotencyKeyReused, errs.Code(err), "%v", err)
	bankSide, ledgerSide := w.bonusBooks(t)
	assert.Equal(t, []string{"100.00", "100.00"}, []string{bankSide, ledgerSide}, "once")

	g := coupons.Grant{UserID: inv.ID, Kind: coupons.Cash, Amount: d("60.00"), ExpiresOn: w.Today, OpsID: ops.ID, Key: "grant-1"}
	c1, err := w.svc.Grant(w.Ctx, g)
	require.NoError(t, err)
	c2, err := w.svc.Grant(w.Ctx, g)
	require.NoError(t, err, "found again, not judged against the headroom it already took")
	assert.Equal(t, c1.ID, c2.ID)
	g.Amount = d("10.00")
	_, err = w.svc.Grant(w.Ctx, g)
	require.Equal(t, errs.IdempotencyKeyReused, errs.Code(err), "%v", err)
	mine, err := w.svc.List(w.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Len(t, mine, 1)
}

// A bullet loan paid off early: its one installment covers all the loan's
// months, so its bonus accrues by days over the whole term, as the payoff's
// interest does. 3,000.00 at 11 % over 3 months, disbursed 31 January, due
// 30 April (89 days); one bid with +2 % for 3 months: a bonus of
// 3,000.00 × 0.02 × 3 / 12 = 15.00, paid off on 1 March (29 days):
// round(15.00 × 29 / 89) = round(4.8876) = 4.89, beside interest
// round(82.50 × 29 / 89) = 26.88.
func TestBulletPayoffAccruesTheBonusByDays(t *testing.T) {
	w := newWorld(t)
	inv := w.Investor("C3", "3000.00")
	_, err := w.svc.TopUp(w.Ctx, 0, "", d("1000.00")) // the coupon's most: round(200,000.00 × 0.02 × 3 / 12)
	require.NoError(t, err)
	c, err := w.svc.Grant(w.Ctx, coupons.Grant{UserID: inv.ID, Kind: coupons.Interest, ExtraRate: d("0.02"), Months: 3, ExpiresOn: w.Today})
	require.NoError(t, err)
	borrower := w.User(lending.RoleBorrower, "200.00")
	loan := w.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	_, err = w.bids.PlaceWithCoupon(w.Ctx, "", inv.ID, loan.ID, d("3000.00"), w.Today, c.ID)
	require.NoError(t, err)
	_, err = w.Pool.Exec(w.Ctx, `UPDATE loans SET status = 'disbursing', repayment_method = 'bullet' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	_, err = w.acts.Disburse(w.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: w.Today})
	require.NoError(t, err)
	assert.Equal(t, []string{"15.00 planned"}, w.payments(t, loan.ID))
	res, err := w.acts.Repay(w.Ctx, activities.RepayInput{LoanID: loan.ID, Seq: 11, Kind: lending.RepayPayoff, Attempt: 1,
		Today: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.True(t, res.Paid, res.Detail)
	assert.Equal(t, "3026.88", res.Amount.StringFixed(2))
	assert.Equal(t, []string{"4.89 paid " + bank.BonusPayment(loan.ID, 1, c.ID, 1)}, w.payments(t, loan.ID))
}
