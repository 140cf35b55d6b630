package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/reports"
)

var (
	day     = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dayOnly = func(context.Context) (time.Time, error) { return day, nil }
	m       = decimal.RequireFromString
)

// handBuiltDay books, entry by entry, a day whose every figure is known: the
// day before, two investors recharge 10,000.00 and 5,000.00; on 2 March
// 2026 investor A recharges 2,000.00 and a 10,000.00 loan is disbursed from
// A's frozen bid (service fee 150.00, risk reserve 200.00, the borrower gets
// 9,650.00); the borrower repays 1,000.00 to A (900.00 principal, 95.00
// interest, 5.00 penalty); B withdraws 500.00 with a
// 2.00 fee; B buys a claim of A's for 1,010.00 of which the platform keeps
// 10.00; the platform tops the bonus account up by 100.00 and pays A a
// 20.00 coupon; the reserve compensates A 150.00; 50.00 is recovered from
// the borrower after a write-off of another loan whose holders lost 700.00.
func handBuiltDay(t *testing.T) *reports.Service {
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	user := func(email string, role lending.Role) int64 {
		u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: email, PasswordHash: "x", Role: role, Name: "n"}))
		require.NoError(t, err)
		return u.ID
	}
	a, b, br := user("a@x", lending.RoleInvestor), user("b@x", lending.RoleInvestor), user("br@x", lending.RoleBorrower)
	before := day.AddDate(0, 0, -1)
	entries := []ledger.Entry{
		ledger.Recharge("rc-a0", a, m("10000.00"), before),
		ledger.Recharge("rc-b0", b, m("5000.00"), before),
		ledger.Recharge("rc-a1", a, m("2000.00"), day),
		ledger.Freeze("fz-a", a, m("10000.00"), "bid:1", day),
		{RequestNo: "disb-1", Type: ledger.TypeDisbursement, BusinessDate: day, Postings: []ledger.Posting{
			{Account: ledger.UserFrozen(a), Amount: m("-10000.00")},
			{Account: ledger.UserAvailable(br), Amount: m("10000.00")},
			{Account: ledger.UserAvailable(br), Amount: m("-150.00"), Kind: ledger.KindServiceFee},
			{Account: ledger.PlatformFee, Amount: m("150.00"), Kind: ledger.KindServiceFee},
			{Account: ledger.UserAvailable(br), Amount: m("-200.00"), Kind: ledger.KindRiskReserve},
			{Account: ledger.PlatformRiskReserve, Amount: m("200.00"), Kind: ledger.KindRiskReserve},
		}},
		{RequestNo: "rp-1", Type: ledger.TypeRepayment, BusinessDate: day, Postings: []ledger.Posting{
			{Account: ledger.UserAvailable(br), Amount: m("-900.00"), Kind: ledger.KindPrincipal},
			{Account: ledger.UserAvailable(br), Amount: m("-95.00"), Kind: ledger.KindInterest},
			{Account: ledger.UserAvailable(br), Amount: m("-5.00"), Kind: ledger.KindPenalty},
			{Account: ledger.UserAvailable(a), Amount: m("900.00"), Kind: ledger.KindPrincipal},
			{Account: ledger.UserAvailable(a), Amount: m("95.00"), Kind: ledger.KindInterest},
			{Account: ledger.UserAvailable(a), Amount: m("5.00"), Kind: ledger.KindPenalty},
		}},
		ledger.Withdrawal("wd-b", b, m("500.00"), m("2.00"), day),
		{RequestNo: "tr-1", Type: ledger.TypeTransfer, BusinessDate: day, Postings: []ledger.Posting{
			{Account: ledger.UserAvailable(b), Amount: m("-1010.00")},
			{Account: ledger.UserAvailable(a), Amount: m("1000.00")},
			{Account: ledger.PlatformFee, Amount: m("10.00")},
		}},
		ledger.BonusTopUp("top-1", m("100.00"), "top_up:1", day),
		ledger.Transfer("bonus-1", 0, ledger.TypeBonus, ledger.PlatformBonus, ledger.UserAvailable(a), m("20.00"), "coupon:1", day),
		ledger.Transfer("comp-1", 0, ledger.TypeCompensation, ledger.PlatformRiskReserve, ledger.UserAvailable(a), m("150.00"), "loan:1", day),
		ledger.Transfer("rec-1", 0, ledger.TypeRecovery, ledger.UserAvailable(br), ledger.UserAvailable(a), m("50.00"), "loan:2", day),
	}
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(ctx, tx, entries...)
		return err
	}))
	_, err := pool.Exec(ctx, `INSERT INTO loans (id, borrower_id, amount, term_months, repayment_method, purpose, monthly_income, status, workflow_id, applied_on)
		VALUES (2, $1, 1000.00, 3, 'bullet', 'p', 1.00, 'written_off', 'loan-2', '2026-01-01')`, br)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO loan_history (loan_id, seq, status, business_date) VALUES (2, 1, 'written_off', $1)`, day)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO write_off_losses (loan_id, holder_key, holder, user_id, amount) VALUES (2, 'a', 'investor', $1, 700.00)`, a)
	require.NoError(t, err)
	require.NoError(t, ledger.CheckConservation(ctx, pool))
	return reports.New(pool, dayOnly)
}

// TestDayReport: every figure of the hand-built day, to the fen.
func TestDayReport(t *testing.T) {
	svc := handBuiltDay(t)
	d, err := svc.Day(context.Background(), day)
	require.NoError(t, err)
	f := d.Figures
	got := map[string]string{}
	for name, v := range map[string]decimal.Decimal{
		"disbursed": f.Disbursed, "service_fees": f.ServiceFees, "risk_reserve_in": f.RiskReserveIn, "risk_reserve_out": f.RiskReserveOut,
		"repaid_principal": f.RepaidPrincipal, "repaid_interest": f.RepaidInterest, "repaid_penalty": f.RepaidPenalty,
		"compensated": f.Compensated, "recovered": f.Recovered, "written_off": f.WrittenOff, "recharges": f.Recharges,
		"withdrawals": f.Withdrawals, "withdrawal_fees": f.WithdrawalFees, "transfer_volume": f.TransferVolume,
		"transfer_fees": f.TransferFees, "bonus_paid": f.BonusPaid, "bonus_top_ups": f.BonusTopUps,
		"opening_balances": f.OpeningBalances, "closing_balances": f.ClosingBalances,
	} {
		got[name] = v.StringFixed(2)
	}
	assert.Equal(t, map[string]string{
		"disbursed": "10000.00", "service_fees": "150.00", "risk_reserve_in": "200.00", "risk_reserve_out": "150.00",
		"repaid_principal": "900.00", "repaid_interest": "95.00", "repaid_penalty": "5.00",
		"compensated": "150.00", "recovered": "50.00", "written_off": "700.00", "recharges": "2000.00",
		"withdrawals": "500.00", "withdrawal_fees": "2.00", "transfer_volume": "1010.00",
		"transfer_fees": "10.00", "bonus_paid": "20.00", "bonus_top_ups": "100.00",
		"opening_balances": "15000.00", "closing_balances": "16600.00",
	}, got)

	before, err := svc.Day(context.Background(), day.AddDate(0, 0, -1))
	require.NoError(t, err)
	assert.Equal(t, "15000.00", before.Recharges.StringFixed(2))
	assert.Equal(t, "0.00", before.OpeningBalances.StringFixed(2))

	_, err = svc.Day(context.Background(), day.AddDate(0, 0, 1))
	assert.Error(t, err, "a day to come has no report")
}

// TestDayBalances: money in − money out = the change in all balances, on
// the hand-built day (2,000.00 recharged + 100.00 topped up − 500.00
// withdrawn = 16,600.00 − 15,000.00); and a ledger that lost a fen, booked
// straight into an account with no counterpart, is refused.
func TestDayBalances(t *testing.T) {
	svc := handBuiltDay(t)
	d, err := svc.Day(context.Background(), day)
	require.NoError(t, err)
	t.Logf("2026-03-02: in %s (recharges %s, bonus top-ups %s, reversals %s) − out %s = %s; balances %s → %s",
		d.MoneyIn(), d.Recharges, d.BonusTopUps, d.WithdrawalReversals, d.MoneyOut(), d.MoneyIn().Sub(d.MoneyOut()),
		d.OpeningBalances, d.ClosingBalances)
	assert.True(t, d.Balanced())
	assert.Equal(t, "1600.00", d.MoneyIn().Sub(d.MoneyOut()).StringFixed(2))
	assert.Equal(t, "1600.00", d.ClosingBalances.Sub(d.OpeningBalances).StringFixed(2))

	broken := d.Figures
	broken.Withdrawals = broken.Withdrawals.Add(m("0.01"))
	assert.False(t, broken.Balanced(), "a fen more out than the balances show")
}

// TestMonthReport: March's sums are its days', and the disclosure figures
// at its end come with them.
func TestMonthReport(t *testing.T) {
	svc := handBuiltDay(t)
	mo, err := svc.Month(context.Background(), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "17000.00", mo.Recharges.StringFixed(2), "both days of March: 10,000.00 + 5,000.00 + 2,000.00")
	assert.Equal(t, "10000.00", mo.Disbursed.StringFixed(2))
	assert.Equal(t, "0.00", mo.OpeningBalances.StringFixed(2))
	assert.Equal(t, "16600.00", mo.ClosingBalances.StringFixed(2))
	assert.True(t, mo.Balanced())
	assert.Equal(t, day, mo.Disclosure.AsOf, "the month in progress: its end so far")
	assert.Equal(t, "50.00", mo.Disclosure.RiskReserveBalance.StringFixed(2), "200.00 in, 150.00 out")
}
