package money

import (
	"math/rand"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func strs(ds []decimal.Decimal) []string {
	out := make([]string, len(ds))
	for i, v := range ds {
		out[i] = v.StringFixed(2)
	}
	return out
}

func ds(ss ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ss))
	for i, s := range ss {
		out[i] = d(s)
	}
	return out
}

func TestSplitLargestRemainder(t *testing.T) {
	// 100.00 in three equal claims: 33.333… each; floor 33.33 ×3 = 99.99, one cent
	// left; the remainders tie, so the earliest claim gets it.
	assert.Equal(t, []string{"33.34", "33.33", "33.33"}, strs(Split(d("100.00"), ds("1", "1", "1"))))
	// 19859.00 among 30000/20000/10000: 9929.50 exact, 6619.666… → 6619.66 (rem .00667),
	// 3309.833… → 3309.83 (rem .00333); one cent left goes to the larger remainder.
	assert.Equal(t, []string{"9929.50", "6619.67", "3309.83"}, strs(Split(d("19859.00"), ds("30000", "20000", "10000"))))
	// 0.05 among six equal claims: nothing rounds down above zero; the five cents go
	// to the five earliest claims.
	assert.Equal(t, []string{"0.01", "0.01", "0.01", "0.01", "0.01", "0.00"}, strs(Split(d("0.05"), ds("1", "1", "1", "1", "1", "1"))))
	// A larger remainder beats an earlier claim: 10.00 among 1, 2 → 3.333… and 6.666….
	assert.Equal(t, []string{"3.33", "6.67"}, strs(Split(d("10.00"), ds("1", "2"))))
	assert.Equal(t, []string{"0.00", "0.00"}, strs(Split(decimal.Zero, ds("1", "2"))))
}

// FuzzSplit: shares sum to the total exactly and each is within a cent of its
// exact pro-rata value.
func FuzzSplit(f *testing.F) {
	f.Add(int64(1985900), int64(7), uint8(3))
	f.Add(int64(5), int64(1), uint8(6))
	f.Add(int64(99999999), int64(42), uint8(50))
	f.Fuzz(func(t *testing.T, cents, seed int64, n uint8) {
		if cents < 0 || cents > 1e12 || n == 0 {
			return
		}
		rng := rand.New(rand.NewSource(seed))
		weights := make([]decimal.Decimal, int(n%64)+1)
		sum := decimal.Zero
		for i := range weights {
			weights[i] = decimal.New(rng.Int63n(5_000_000)+100, -2)
			sum = sum.Add(weights[i])
		}
		total := decimal.New(cents, -2)
		shares := Split(total, weights)
		got := decimal.Zero
		for i, s := range shares {
			got = got.Add(s)
			exact := total.Mul(weights[i]).DivRound(sum, 30)
			require.True(t, s.Sub(exact).Abs().LessThan(d("0.01")), "share %s vs exact %s", s, exact)
			require.False(t, s.IsNegative())
		}
		require.True(t, got.Equal(total), "shares sum to %s, not %s", got, total)
	})
}

func TestClaimSharesReturnEveryPrincipalExactly(t *testing.T) {
	// The e2e loan: 60,000.00 at 8.5 % over 3 months, bids 30000/20000/10000.
	// Splitting each installment alone pays the first claim 9929.50+9999.83+10070.66
	// = 29999.99; the remainder rule pays 10070.67 last, so 30000.00 in all.
	s, err := Schedule(d("60000.00"), d("0.085"), 3, EqualInstallment, day(2026, 1, 31))
	require.NoError(t, err)
	var ps, is []decimal.Decimal
	for _, i := range s {
		ps, is = append(ps, i.Principal), append(is, i.Interest)
	}
	claims := ds("30000.00", "20000.00", "10000.00")
	principal, interest := ClaimShares(ps, is, claims)
	assert.Equal(t, []string{"10070.67", "6713.77", "3356.89"}, strs(principal[2]))
	for c := range claims {
		sum := decimal.Zero
		for k := range s {
			sum = sum.Add(principal[k][c])
		}
		assert.True(t, sum.Equal(claims[c]), "claim %d got %s", c, sum)
	}
	for k := range s {
		assert.True(t, sumOf(principal[k]).Equal(ps[k]))
		assert.True(t, sumOf(interest[k]).Equal(is[k]))
	}
}

func sumOf(xs []decimal.Decimal) decimal.Decimal {
	s := decimal.Zero
	for _, x := range xs {
		s = s.Add(x)
	}
	return s
}

func TestAllocateOldestFirstPenaltyInterestPrincipal(t *testing.T) {
	dues := []Due{{Penalty: d("10.00"), Interest: d("20.00"), Principal: d("100.00")}, {Penalty: d("1.00"), Interest: d("2.00"), Principal: d("3.00")}}
	applied, left := Allocate(d("100.00"), dues)
	assert.Equal(t, Due{Penalty: d("10.00"), Interest: d("20.00"), Principal: d("70.00")}.Principal.String(), applied[0].Principal.String())
	assert.Equal(t, "10", applied[0].Penalty.String())
	assert.True(t, applied[1].Penalty.IsZero() && applied[1].Interest.IsZero() && applied[1].Principal.IsZero())
	assert.True(t, left.IsZero())
	applied, left = Allocate(d("140.00"), dues)
	assert.Equal(t, "1", applied[1].Penalty.String())
	assert.Equal(t, "2", applied[1].Interest.String())
	assert.Equal(t, "3", applied[1].Principal.String())
	assert.Equal(t, "4", left.String())
}

func TestPenaltyAccruesRoundedPerDay(t *testing.T) {
	// 0.05 % of 1234.57 = 0.617285 → 0.62 a day; ten days 6.20 (not round(6.17285)).
	assert.Equal(t, "0.62", DailyPenalty(d("1234.57")).StringFixed(2))
	assert.Equal(t, "6.20", PenaltyForDays(d("1234.57"), 10).StringFixed(2))
	assert.Equal(t, "0.00", PenaltyForDays(d("1234.57"), 0).StringFixed(2))
	assert.Equal(t, "2.50", DailyPenalty(d("5000.00")).StringFixed(2))
}

func TestEarlyPayoffAccruesByDays(t *testing.T) {
	// Period 31 Jan → 28 Feb is 28 days; 10 days in: round(100.00·10/28) = 35.71.
	start, end := day(2026, 1, 31), day(2026, 2, 28)
	p, i := PayoffAmount(d("5000.00"), d("100.00"), start, end, day(2026, 2, 10))
	assert.Equal(t, "5000.00", p.StringFixed(2))
	assert.Equal(t, "35.71", i.StringFixed(2))
	assert.Equal(t, "0.00", AccruedInterest(d("100.00"), start, end, start).StringFixed(2))
	assert.Equal(t, "100.00", AccruedInterest(d("100.00"), start, end, end).StringFixed(2))
}

func TestFeesByGrade(t *testing.T) {
	for g, want := range map[Grade][2]string{"A": {"600.00", "0.065"}, "B": {"900.00", "0.085"}, "C": {"1200.00", "0.11"}, "D": {"1800.00", "0.14"}, "E": {"2400.00", "0.18"}} {
		fee, err := ServiceFee(g, d("60000.00"))
		require.NoError(t, err)
		assert.Equal(t, want[0], fee.StringFixed(2), "grade %s", g)
		terms, _ := TermsFor(g)
		assert.True(t, terms.AnnualRate.Equal(d(want[1])), "grade %s rate", g)
	}
	assert.Equal(t, "1200.00", RiskReserve(d("60000.00")).StringFixed(2))
	assert.Equal(t, "0.02", RiskReserve(d("1.00")).StringFixed(2))
	_, err := ServiceFee("F", d("1.00"))
	assert.Error(t, err)
}

func TestSuitability(t *testing.T) {
	assert.True(t, Suitable("C1", "A"))
	assert.False(t, Suitable("C1", "B"))
	assert.True(t, Suitable("C3", "C"))
	assert.False(t, Suitable("C4", "E"))
	assert.True(t, Suitable("C5", "E"))
	assert.False(t, Suitable("C9", "A"))
}

func TestRiskLevelBands(t *testing.T) {
	for sum, want := range map[int]RiskLevel{0: "C1", 8: "C1", 9: "C2", 16: "C2", 17: "C3", 24: "C3", 25: "C4", 32: "C4", 33: "C5", 40: "C5"} {
		answers := make([]int, 10)
		for i := 0; i < sum; i++ {
			answers[i%10]++
		}
		got, err := RiskLevelFromAnswers(answers)
		require.NoError(t, err)
		assert.Equal(t, want, got, "sum %d", sum)
	}
	_, err := RiskLevelFromAnswers([]int{1, 2, 3})
	assert.Error(t, err)
	_, err = RiskLevelFromAnswers([]int{5, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	assert.Error(t, err)
}

func TestWithdrawalFee(t *testing.T) {
	assert.Equal(t, "0.00", WithdrawalFee(d("80000.00"), false).StringFixed(2), "first of the month is free")
	assert.Equal(t, "3.00", WithdrawalFee(d("1.00"), true).StringFixed(2))
	assert.Equal(t, "3.00", WithdrawalFee(d("1000.00"), true).StringFixed(2))
	assert.Equal(t, "3.00", WithdrawalFee(d("1000.01"), true).StringFixed(2), "round(3.00003)")
	assert.Equal(t, "37.04", WithdrawalFee(d("12345.67"), true).StringFixed(2), "round(37.03701)")
}

func TestWithdrawalRouteWindow(t *testing.T) {
	sh := shanghai
	at := func(y int, m time.Month, dd, h, min, s int) time.Time { return time.Date(y, m, dd, h, min, s, 0, sh) }
	big, small := d("50000.01"), d("50000.00")
	// 2026-11-23 is a Monday; 2026-11-21/22 the weekend.
	r, err := WithdrawalRoute(small, at(2026, 11, 22, 3, 0, 0), DefaultWorkday)
	require.NoError(t, err)
	assert.Equal(t, RouteSuperEBank, r, "up to 50,000.00 at any time")
	for _, tc := range []struct {
		t  time.Time
		ok bool
	}{
		{at(2026, 11, 22, 23, 29, 59), false}, // Sunday night, before the Monday window opens
		{at(2026, 11, 22, 23, 30, 0), true},   // Monday's window opens at 23:30 Sunday
		{at(2026, 11, 23, 9, 0, 0), true},
		{at(2026, 11, 23, 17, 15, 0), true},
		{at(2026, 11, 23, 17, 15, 1), false},
		{at(2026, 11, 23, 17, 16, 0), false},
		{at(2026, 11, 27, 23, 30, 0), false}, // Friday night: Saturday is no workday
		{at(2026, 11, 28, 10, 0, 0), false},  // Saturday
		{at(2026, 11, 23, 1, 0, 0).UTC(), true},
	} {
		r, err := WithdrawalRoute(big, tc.t, DefaultWorkday)
		if tc.ok {
			assert.NoError(t, err, tc.t.String())
			assert.Equal(t, RouteLargeValue, r)
		} else {
			assert.ErrorIs(t, err, ErrOutsideLargeValueWindow, tc.t.String())
		}
	}
}

func TestValidAmount(t *testing.T) {
	assert.NoError(t, ValidAmount(d("0.01")))
	assert.Error(t, ValidAmount(d("0")))
	assert.Error(t, ValidAmount(d("-5.00")))
	assert.Error(t, ValidAmount(d("1.001")))
	assert.Equal(t, "2.68", Round(d("2.675")).StringFixed(2), "half-up")
	assert.Equal(t, "2.67", Round(d("2.6749")).StringFixed(2))
}
