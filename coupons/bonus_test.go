package coupons

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func money2(ds []decimal.Decimal) []string {
	out := make([]string, len(ds))
	for i, x := range ds {
		out[i] = x.StringFixed(2)
	}
	return out
}

// TestBonusRoundsHalfUpToTheFen: round(B × e × m / 12) on the exact quotient.
func TestBonusRoundsHalfUpToTheFen(t *testing.T) {
	for _, c := range []struct {
		b, e   string
		m      int
		want   string
		reason string
	}{
		{"10000.00", "0.02", 1, "16.67", "16.666… rounds up"},
		{"6.00", "0.01", 1, "0.01", "exactly half a fen rounds up"},
		{"5.99", "0.01", 1, "0.00", "0.0049916… rounds down"},
		{"12000.00", "0.03", 3, "90.00", "three months at once"},
		{"10049.42", "0.03", 1, "25.12", "25.12355"},
		{"8079.33", "0.03", 1, "20.20", "20.198325"},
		{"10000.00", "0.02", 0, "0.00", "a month outside the coupon's"},
	} {
		require.Equal(t, c.want, Bonus(d(c.b), d(c.e), c.m).StringFixed(2), c.reason)
	}
}

// TestCoveredMonths: a monthly installment covers its month while within the
// coupon's months; a bullet loan's one installment covers them all.
func TestCoveredMonths(t *testing.T) {
	require.Equal(t, []int{1, 1, 1, 0, 0, 0}, []int{
		CoveredMonths(money.EqualInstallment, 6, 1, 3), CoveredMonths(money.EqualInstallment, 6, 2, 3),
		CoveredMonths(money.EqualPrincipal, 6, 3, 3), CoveredMonths(money.EqualPrincipal, 6, 4, 3),
		CoveredMonths(money.InterestOnly, 6, 5, 3), CoveredMonths(money.InterestOnly, 6, 6, 3)})
	require.Equal(t, 3, CoveredMonths(money.Bullet, 6, 1, 3))
	require.Equal(t, 6, CoveredMonths(money.Bullet, 6, 1, 12), "never more months than the loan runs")
}

// TestBonusesPerMethod is the worked example of docs/coupons.md: one claim of
// the whole 12,000.00 loan at 12 % over 6 months, an interest coupon of
// +3 % for 3 months, for each repayment method.
func TestBonusesPerMethod(t *testing.T) {
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		method money.Method
		want   []string
	}{
		// B: 12,000.00, 10,049.42 (after 1,950.58), 8,079.33 (after 1,970.09).
		{money.EqualInstallment, []string{"30.00", "25.12", "20.20", "0.00", "0.00", "0.00"}},
		// B: 12,000.00, 10,000.00, 8,000.00.
		{money.EqualPrincipal, []string{"30.00", "25.00", "20.00", "0.00", "0.00", "0.00"}},
		// B stays 12,000.00 until the last installment.
		{money.InterestOnly, []string{"30.00", "30.00", "30.00", "0.00", "0.00", "0.00"}},
		// One installment covering the 6 months, 3 of them the coupon's.
		{money.Bullet, []string{"90.00"}},
	} {
		sched, err := money.Schedule(d("12000.00"), d("0.12"), 6, c.method, start)
		require.NoError(t, err)
		principal := make([]decimal.Decimal, len(sched))
		for k, in := range sched {
			principal[k] = in.Principal
		}
		got := Bonuses(d("12000.00"), principal, d("0.03"), 3, c.method, 6)
		require.Equal(t, c.want, money2(got), c.method)
	}
}

// TestBonusesOnAShareOfTheLoan: B is the claim's own remaining principal (its
// principal shares, docs/rules.md "Investor shares"), not the loan's.
func TestBonusesOnAShareOfTheLoan(t *testing.T) {
	start := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	sched, err := money.Schedule(d("30000.00"), d("0.10"), 3, money.EqualPrincipal, start)
	require.NoError(t, err)
	principals, interests := make([]decimal.Decimal, 3), make([]decimal.Decimal, 3)
	for k, in := range sched {
		principals[k], interests[k] = in.Principal, in.Interest
	}
	shares, _ := money.ClaimShares(principals, interests, []decimal.Decimal{d("10000.00"), d("20000.00")})
	claim := make([]decimal.Decimal, 3)
	for k := range shares {
		claim[k] = shares[k][0]
	}
	require.Equal(t, []string{"3333.33", "3333.33", "3333.34"}, money2(claim))
	// B: 10,000.00, 6,666.67, 3,333.34; the coupon's 12 months outlast the loan.
	got := Bonuses(d("10000.00"), claim, d("0.05"), 12, money.EqualPrincipal, 3)
	require.Equal(t, []string{"41.67", "27.78", "13.89"}, money2(got))
}

// TestPayoffAccruesTheBonusByDays: on early payoff the current bonus accrues
// as the payoff's interest does (money.AccruedInterest): 30.00 over a 31-day
// period paid off on day 10 is 9.68; on the period's first day nothing.
func TestPayoffAccruesTheBonusByDays(t *testing.T) {
	from, to := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)
	require.Equal(t, "9.68", money.AccruedInterest(d("30.00"), from, to, from.AddDate(0, 0, 10)).StringFixed(2))
	require.Equal(t, "0.00", money.AccruedInterest(d("30.00"), from, to, from).StringFixed(2))
}

// TestMost: a cash coupon's most is its face; an interest coupon's the bonus
// of the largest claim a bid can be for all its months.
func TestMost(t *testing.T) {
	require.Equal(t, "50.00", Most(Cash, d("50.00"), decimal.Zero, 0).StringFixed(2))
	// 200,000.00 × 0.01 × 3 / 12.
	require.Equal(t, "500.00", Most(Interest, decimal.Zero, d("0.01"), 3).StringFixed(2))
}
