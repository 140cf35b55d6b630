package money

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }

func TestDueDateClampsFromTheOriginalDay(t *testing.T) {
	start := day(2026, 1, 31)
	assert.Equal(t, day(2026, 2, 28), DueDate(start, 1))
	assert.Equal(t, day(2026, 3, 31), DueDate(start, 2), "back to the 31st, not the 28th")
	assert.Equal(t, day(2026, 4, 30), DueDate(start, 3))
	assert.Equal(t, day(2028, 2, 29), DueDate(day(2028, 1, 31), 1), "leap year")
	leap := day(2028, 2, 29)
	assert.Equal(t, day(2028, 3, 29), DueDate(leap, 1))
	assert.Equal(t, day(2029, 2, 28), DueDate(leap, 12), "a leap-day start falls on 28 Feb the next year")
	assert.Equal(t, day(2029, 1, 31), DueDate(day(2026, 1, 31), 36))
}

type row struct{ principal, interest, payment, remaining string }

func check(t *testing.T, got Installment, want row) {
	t.Helper()
	assert.Equal(t, want.principal, got.Principal.StringFixed(2), "principal of %d", got.No)
	assert.Equal(t, want.interest, got.Interest.StringFixed(2), "interest of %d", got.No)
	assert.Equal(t, want.payment, got.Payment.StringFixed(2), "payment of %d", got.No)
	assert.Equal(t, want.remaining, got.RemainingPrincipal.StringFixed(2), "remaining after %d", got.No)
}

func TestScheduleHandWorked(t *testing.T) {
	// 10,000.00 at 12 % over 12 months, equal installments: r = 0.01,
	// A = round(10000·0.01·1.01^12/(1.01^12−1)) = round(888.4878…) = 888.49.
	// 1: interest round(10000.00·0.01) = 100.00, principal 788.49, left 9211.51.
	// 12: the remaining 879.67 plus interest round(879.67·0.01) = 8.80 = 888.47.
	s, err := Schedule(d("10000.00"), d("0.12"), 12, EqualInstallment, day(2026, 1, 15))
	require.NoError(t, err)
	require.Len(t, s, 12)
	check(t, s[0], row{"788.49", "100.00", "888.49", "9211.51"})
	check(t, s[11], row{"879.67", "8.80", "888.47", "0.00"})
	assert.Equal(t, "661.86", sumInterest(s).StringFixed(2))

	// 10,000.00 at 12 % over 3 months, equal principal: round(10000/3) = 3333.33,
	// the last takes 3333.34; interest on the balance: 100.00, 66.67, 33.33.
	s, err = Schedule(d("10000.00"), d("0.12"), 3, EqualPrincipal, day(2026, 1, 15))
	require.NoError(t, err)
	check(t, s[0], row{"3333.33", "100.00", "3433.33", "6666.67"})
	check(t, s[1], row{"3333.33", "66.67", "3400.00", "3333.34"})
	check(t, s[2], row{"3333.34", "33.33", "3366.67", "0.00"})

	// Interest only, an amount with fen: interest round(10000.01·0.065/12) =
	// round(54.1667…) = 54.17 each month; the last adds all principal.
	s, err = Schedule(d("10000.01"), d("0.065"), 3, InterestOnly, day(2026, 1, 15))
	require.NoError(t, err)
	check(t, s[0], row{"0.00", "54.17", "54.17", "10000.01"})
	check(t, s[2], row{"10000.01", "54.17", "10054.18", "0.00"})

	// Bullet: one period at month 36, interest round(10000·0.015·36) = 5400.00.
	s, err = Schedule(d("10000.00"), d("0.18"), 36, Bullet, day(2026, 1, 31))
	require.NoError(t, err)
	require.Len(t, s, 1)
	assert.Equal(t, day(2029, 1, 31), s[0].DueDate)
	check(t, s[0], row{"10000.00", "5400.00", "15400.00", "0.00"})

	// 36 months at 18 %: r = 0.015, A = round(200000·0.015·1.015^36/(1.015^36−1)) = 7230.48;
	// the last period is the remaining 7123.58 + round(7123.58·0.015) = 106.85.
	s, err = Schedule(d("200000.00"), d("0.18"), 36, EqualInstallment, day(2026, 1, 31))
	require.NoError(t, err)
	check(t, s[0], row{"4230.48", "3000.00", "7230.48", "195769.52"})
	check(t, s[35], row{"7123.58", "106.85", "7230.43", "0.00"})
	assert.Equal(t, "60297.23", sumInterest(s).StringFixed(2))

	// One month: the whole principal and one month's interest.
	s, err = Schedule(d("10000.01"), d("0.065"), 1, EqualInstallment, day(2026, 1, 15))
	require.NoError(t, err)
	check(t, s[0], row{"10000.01", "54.17", "10054.18", "0.00"})
}

func TestScheduleZeroRate(t *testing.T) {
	// No interest: A = round(1000/3) = 333.33; the last takes 333.34.
	for _, m := range []Method{EqualInstallment, EqualPrincipal} {
		s, err := Schedule(d("1000.00"), decimal.Zero, 3, m, day(2026, 1, 15))
		require.NoError(t, err)
		check(t, s[0], row{"333.33", "0.00", "333.33", "666.67"})
		check(t, s[2], row{"333.34", "0.00", "333.34", "0.00"})
	}
}

func TestScheduleRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		p, r string
		n    int
		m    Method
	}{
		"negative amount": {"-1.00", "0.1", 12, EqualInstallment},
		"fen and a half":  {"100.005", "0.1", 12, EqualInstallment},
		"zero amount":     {"0", "0.1", 12, EqualInstallment},
		"negative rate":   {"100.00", "-0.1", 12, EqualInstallment},
		"term 0":          {"100.00", "0.1", 0, EqualInstallment},
		"term 37":         {"100.00", "0.1", 37, EqualInstallment},
		"unknown method":  {"100.00", "0.1", 12, "balloon"},
	} {
		_, err := Schedule(d(tc.p), d(tc.r), tc.n, tc.m, day(2026, 1, 1))
		assert.Error(t, err, name)
	}
}

func sumInterest(s []Installment) decimal.Decimal {
	sum := decimal.Zero
	for _, i := range s {
		sum = sum.Add(i.Interest)
	}
	return sum
}

// FuzzSchedule checks the invariants for any loan: principal parts sum to the
// amount, balances never go negative, every part has at most 2 decimals, and
// the interest of equal installments never rises period to period.
func FuzzSchedule(f *testing.F) {
	f.Add(int64(1000000), uint16(1200), uint8(12), uint8(0), uint8(31))
	f.Add(int64(20000000), uint16(1800), uint8(36), uint8(1), uint8(29))
	f.Add(int64(100001), uint16(0), uint8(1), uint8(2), uint8(1))
	f.Add(int64(99999999), uint16(650), uint8(7), uint8(3), uint8(30))
	f.Add(int64(100000), uint16(2400), uint8(36), uint8(0), uint8(15))
	f.Fuzz(func(t *testing.T, cents int64, bps uint16, term, method, startDay uint8) {
		if cents <= 0 || cents > 2e10 {
			return
		}
		n := int(term%36) + 1
		m := []Method{EqualInstallment, EqualPrincipal, InterestOnly, Bullet}[method%4]
		p := decimal.New(cents, -2)
		rate := decimal.New(int64(bps%3001), -4)
		s, err := Schedule(p, rate, n, m, day(2028, 1, int(startDay%31)+1))
		require.NoError(t, err)
		sum := decimal.Zero
		for k, inst := range s {
			sum = sum.Add(inst.Principal)
			for _, v := range []decimal.Decimal{inst.Principal, inst.Interest, inst.RemainingPrincipal} {
				require.False(t, v.IsNegative(), "negative part in %d: %v", inst.No, inst)
				require.True(t, v.Equal(v.Truncate(2)), "more than 2 decimals: %v", v)
			}
			require.True(t, inst.Payment.Equal(inst.Principal.Add(inst.Interest)))
			if m == EqualInstallment && k > 0 {
				require.True(t, inst.Interest.LessThanOrEqual(s[k-1].Interest), "interest rose at %d", inst.No)
			}
		}
		require.True(t, sum.Equal(p), "principal parts %s ≠ amount %s", sum, p)
		require.True(t, s[len(s)-1].RemainingPrincipal.IsZero())
	})
}
