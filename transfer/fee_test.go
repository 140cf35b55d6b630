package transfer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The fee's tiers by holding days, each edge: 1–29 days 1.0 %, 30–90 0.5 %,
// 91 or more 0 % of R, half-up (docs/rules.md "Debt transfer").
func TestFeeTiersAtTheirEdges(t *testing.T) {
	r := d("4021.56")
	for _, tc := range []struct {
		days      int
		rate, fee string
	}{
		{1, "0.01", "40.22"}, // 40.2156
		{29, "0.01", "40.22"},
		{30, "0.005", "20.11"}, // 20.1078
		{90, "0.005", "20.11"},
		{91, "0", "0.00"},
		{400, "0", "0.00"},
	} {
		require.Equal(t, tc.rate, FeeRate(tc.days).String(), "day %d", tc.days)
		require.Equal(t, tc.fee, Fee(r, tc.days).StringFixed(2), "day %d", tc.days)
	}
	require.Equal(t, "0.01", Fee(d("0.50"), 1).StringFixed(2), "0.005 rounds half-up")
	require.Equal(t, "0.00", Fee(d("0.49"), 1).StringFixed(2))
	require.Equal(t, "0.01", Fee(d("1.00"), 30).StringFixed(2), "0.005 → 0.01")
}

// Holding days count the first day: a claim bought today has been held 1 day.
func TestHoldingDaysCountTheFirstDay(t *testing.T) {
	from := day("2026-03-02")
	for _, tc := range []struct {
		on   string
		days int
	}{
		{"2026-03-02", 1},
		{"2026-03-30", 29},
		{"2026-03-31", 30},
		{"2026-05-30", 90},
		{"2026-05-31", 91},
	} {
		require.Equal(t, tc.days, HoldingDays(from, day(tc.on)), tc.on)
	}
	// So a claim disbursed on 2 March sold on 30 March pays 1 %, on 31 March 0.5 %.
	require.Equal(t, "60.00", Fee(d("6000.00"), HoldingDays(from, day("2026-03-30"))).StringFixed(2))
	require.Equal(t, "30.00", Fee(d("6000.00"), HoldingDays(from, day("2026-03-31"))).StringFixed(2))
	require.Equal(t, "30.00", Fee(d("6000.00"), HoldingDays(from, day("2026-05-30"))).StringFixed(2))
	require.Equal(t, "0.00", Fee(d("6000.00"), HoldingDays(from, day("2026-05-31"))).StringFixed(2))
}
