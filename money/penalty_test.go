package money

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPenaltyAccruesRoundedPerDay(t *testing.T) {
	for _, tc := range []struct {
		base  string
		days  int
		daily string
		total string
	}{
		// 1234.57·0.0005 = 0.617285 → 0.62 a day; 10 days = 6.20, not round(6.17285) = 6.17.
		{"1234.57", 10, "0.62", "6.20"},
		// 888.49·0.0005 = 0.444245 → 0.44 a day; 30 days 13.20.
		{"888.49", 30, "0.44", "13.20"},
		// 5000.00·0.0005 = 2.50 exactly.
		{"5000.00", 1, "2.50", "2.50"},
		// 9.00·0.0005 = 0.0045 → 0.00: under 10.00 the daily penalty rounds to nothing.
		{"9.00", 90, "0.00", "0.00"},
		// 10.00·0.0005 = 0.005, an exact half cent → 0.01.
		{"10.00", 3, "0.01", "0.03"},
		{"1234.57", 0, "0.62", "0.00"},
		{"1234.57", -3, "0.62", "0.00"},
	} {
		assert.Equal(t, tc.daily, DailyPenalty(d(tc.base)).StringFixed(2), tc.base)
		assert.Equal(t, tc.total, PenaltyForDays(d(tc.base), tc.days).StringFixed(2), "%s for %d days", tc.base, tc.days)
	}
}
