package money

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDaysBetween(t *testing.T) {
	assert.Equal(t, 28, DaysBetween(day(2026, 1, 31), day(2026, 2, 28)))
	assert.Equal(t, 29, DaysBetween(day(2028, 1, 31), day(2028, 2, 29)))
	assert.Equal(t, 366, DaysBetween(day(2028, 1, 1), day(2029, 1, 1)))
	assert.Equal(t, -1, DaysBetween(day(2026, 1, 2), day(2026, 1, 1)))
	// Clock times do not count: late on one day to early on the next is one day.
	assert.Equal(t, 1, DaysBetween(time.Date(2026, 1, 1, 23, 59, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 1, 0, 0, time.UTC)))
	// Across a daylight-saving change (a 23-hour day in New York) still one day.
	ny, err := time.LoadLocation("America/New_York")
	if err == nil {
		assert.Equal(t, 1, DaysBetween(time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny)))
	}
}

func TestEarlyPayoffAccruesByDays(t *testing.T) {
	// Period 31 Jan → 28 Feb 2026 is 28 days; its interest 100.00.
	start, end := day(2026, 1, 31), day(2026, 2, 28)
	for _, tc := range []struct {
		name string
		asOf time.Time
		want string
	}{
		{"on the last due date: nothing accrued yet", start, "0.00"},
		{"before the period: nothing", day(2026, 1, 20), "0.00"},
		{"one day: 100·1/28 = 3.5714… → 3.57", day(2026, 2, 1), "3.57"},
		{"10 days: 100·10/28 = 35.714… → 35.71", day(2026, 2, 10), "35.71"},
		{"14 days: exactly half, 50.00", day(2026, 2, 14), "50.00"},
		{"27 days: 96.428… → 96.43", day(2026, 2, 27), "96.43"},
		{"on the due date: the whole interest", end, "100.00"},
		{"after the due date: capped at the whole interest", day(2026, 3, 5), "100.00"},
	} {
		assert.Equal(t, tc.want, AccruedInterest(d("100.00"), start, end, tc.asOf).StringFixed(2), tc.name)
	}
	// Leap February: 31 Jan → 29 Feb 2028 is 29 days; 10 days of 88.80: 888/29 = 30.6206… → 30.62.
	assert.Equal(t, "30.62", AccruedInterest(d("88.80"), day(2028, 1, 31), day(2028, 2, 29), day(2028, 2, 10)).StringFixed(2))
	// Exact half cent: 0.21·15/30 = 0.105 → 0.11.
	assert.Equal(t, "0.11", AccruedInterest(d("0.21"), day(2026, 4, 30), day(2026, 5, 30), day(2026, 5, 15)).StringFixed(2))
	// An empty period owes its whole interest rather than dividing by zero.
	assert.Equal(t, "7.00", AccruedInterest(d("7.00"), start, start, start).StringFixed(2))
}

func TestPayoffAmount(t *testing.T) {
	// 10,000.00 at 12 % equal installments, after the first installment (15 Feb):
	// remaining 9211.51; the second period 15 Feb → 15 Mar 2026 (28 days) has
	// interest 92.12. Paying off on 1 Mar, 14 days in: 92.12·14/28 = 46.06.
	s, err := Schedule(d("10000.00"), d("0.12"), 12, EqualInstallment, day(2026, 1, 15))
	assert.NoError(t, err)
	p, i := PayoffAmount(s[0].RemainingPrincipal, s[1].Interest, s[0].DueDate, s[1].DueDate, day(2026, 3, 1))
	assert.Equal(t, "9211.51", p.StringFixed(2))
	assert.Equal(t, "46.06", i.StringFixed(2))

	// In the first period the start is the disbursement date: 15 Jan → 15 Feb is 31
	// days; 20 days in: 100.00·20/31 = 64.516… → 64.52.
	p, i = PayoffAmount(d("10000.00"), s[0].Interest, day(2026, 1, 15), s[0].DueDate, day(2026, 2, 4))
	assert.Equal(t, "10000.00", p.StringFixed(2))
	assert.Equal(t, "64.52", i.StringFixed(2))
}

// The penalty as of a day between accruals is what was stored plus the days
// since on the unchanged base, each day rounded (docs/rules.md "Penalty
// interest"): a day on or before the last accrual adds nothing.
func TestPenaltyAsOf(t *testing.T) {
	from := day(2026, 3, 10)
	// 1,018.39 unpaid: round(0.509195) = 0.51 a day.
	assert.Equal(t, "5.10", PenaltyAsOf(d("5.10"), d("1018.39"), from, from).StringFixed(2))
	assert.Equal(t, "5.10", PenaltyAsOf(d("5.10"), d("1018.39"), from, day(2026, 3, 1)).StringFixed(2))
	assert.Equal(t, "7.65", PenaltyAsOf(d("5.10"), d("1018.39"), from, day(2026, 3, 15)).StringFixed(2), "5.10 + 5 × 0.51")
}
