package money

import (
	"math/big"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// d is a decimal literal; a typo panics, failing the test loudly.
func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// ds is a list of decimal literals.
func ds(ss ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ss))
	for i, s := range ss {
		out[i] = d(s)
	}
	return out
}

// strs prints amounts with 2 places, so that tests compare what a person reads.
func strs(xs []decimal.Decimal) []string {
	out := make([]string, len(xs))
	for i, v := range xs {
		out[i] = v.StringFixed(2)
	}
	return out
}

func sumOf(xs []decimal.Decimal) decimal.Decimal {
	s := decimal.Zero
	for _, x := range xs {
		s = s.Add(x)
	}
	return s
}

// day is a civil date, 00:00 UTC.
func day(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }

func TestRoundHalfUp(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2.675", "2.68"},  // the half goes up
		{"2.6749", "2.67"}, // just below the half stays
		{"2.67499999999999999999", "2.67"},
		{"2.665", "2.67"}, // not banker's rounding: half-even would give 2.66
		{"0.005", "0.01"},
		{"0.004999", "0.00"},
		{"10000.00", "10000.00"},
		{"7", "7.00"},
		{"-2.675", "-2.68"}, // negatives mirror positives: half away from zero
		{"-2.6749", "-2.67"},
		{"-0.005", "-0.01"},
	} {
		assert.Equal(t, tc.want, Round(d(tc.in)).StringFixed(2), tc.in)
	}
}

func TestValidAmount(t *testing.T) {
	for _, ok := range []string{"0.01", "1", "1.5", "1.50", "1.500", "10000.01", "200000.00"} {
		assert.NoError(t, ValidAmount(d(ok)), ok)
	}
	for in, want := range map[string]error{
		"0": ErrAmountNotPositive, "0.00": ErrAmountNotPositive, "-5.00": ErrAmountNotPositive,
		"1.001": ErrAmountPrecision, "0.005": ErrAmountPrecision, "100.0001": ErrAmountPrecision,
	} {
		assert.ErrorIs(t, ValidAmount(d(in)), want, in)
	}
}

// FuzzRoundRat: the exact rounding of rationals agrees with Round on every
// decimal, and on a rational it sits within half a cent of the value.
func FuzzRoundRat(f *testing.F) {
	f.Add(int64(2675), int32(-3), int64(3))
	f.Add(int64(-2675), int32(-3), int64(1))
	f.Add(int64(1445), int32(-3), int64(7))
	f.Add(int64(5), int32(-2), int64(12))
	f.Fuzz(func(t *testing.T, v int64, exp int32, den int64) {
		if exp < -30 || exp > 10 || den == 0 {
			return
		}
		x := decimal.New(v, exp)
		require.True(t, roundRat(rat(x)).Equal(Round(x)), "%s: %s vs %s", x, roundRat(rat(x)), Round(x))

		q := new(big.Rat).SetFrac(big.NewInt(v), big.NewInt(den))
		got := rat(roundRat(q))
		diff := new(big.Rat).Sub(got, q)
		require.LessOrEqual(t, new(big.Rat).Abs(diff).Cmp(big.NewRat(1, 200)), 0, "%s → %s", q.RatString(), got.RatString())
	})
}
