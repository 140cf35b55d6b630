package money

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithdrawalFee(t *testing.T) {
	for _, tc := range []struct {
		amount string
		used   bool
		want   string
	}{
		{"80000.00", false, "0.00"}, // the month's first is free, whatever the amount
		{"1.00", false, "0.00"},
		{"1.00", true, "3.00"},
		{"1000.00", true, "3.00"}, // "up to 1,000.00" includes it
		{"1000.01", true, "3.00"}, // 0.3 %: 3.00003 → 3.00
		{"1001.67", true, "3.01"}, // 3.00501
		{"1005.00", true, "3.02"}, // 3.015, an exact half cent
		{"1500.00", true, "4.50"},
		{"12345.67", true, "37.04"}, // 37.03701
		{"50000.00", true, "150.00"},
	} {
		assert.Equal(t, tc.want, WithdrawalFee(d(tc.amount), tc.used).StringFixed(2), "%s, free used %v", tc.amount, tc.used)
	}
}

func TestWithdrawalRouteWindow(t *testing.T) {
	sh := func(dd, h, m, s, ns int) time.Time { return time.Date(2026, 11, dd, h, m, s, ns, PlatformZone) }
	// 2026-11-20 is a Friday, 21–22 the weekend, 23 a Monday.
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"Sunday 23:29, before Monday's window", sh(22, 23, 29, 0, 0), false},
		{"Sunday 23:29:59", sh(22, 23, 29, 59, 0), false},
		{"Sunday 23:30 opens Monday's window", sh(22, 23, 30, 0, 0), true},
		{"Sunday 23:59:59", sh(22, 23, 59, 59, 0), true},
		{"Monday 00:00", sh(23, 0, 0, 0, 0), true},
		{"Monday 09:00", sh(23, 9, 0, 0, 0), true},
		{"Monday 17:15:00, the close, inclusive", sh(23, 17, 15, 0, 0), true},
		{"Monday 17:15:00.000000001", sh(23, 17, 15, 0, 1), false},
		{"Monday 17:15:01", sh(23, 17, 15, 1, 0), false},
		{"Monday 17:16", sh(23, 17, 16, 0, 0), false},
		{"Monday 23:29", sh(23, 23, 29, 0, 0), false},
		{"Monday 23:30 opens Tuesday's window", sh(23, 23, 30, 0, 0), true},
		{"Friday 17:15", sh(20, 17, 15, 0, 0), true},
		{"Friday 23:30: Saturday is no workday", sh(20, 23, 30, 0, 0), false},
		{"Saturday 10:00", sh(21, 10, 0, 0, 0), false},
		{"Saturday 23:30: Sunday is no workday", sh(21, 23, 30, 0, 0), false},
		{"Sunday 10:00", sh(22, 10, 0, 0, 0), false},
		// The same instants given in UTC are judged on Shanghai's clock (UTC+8).
		{"Sunday 15:30 UTC is Sunday 23:30 in Shanghai", time.Date(2026, 11, 22, 15, 30, 0, 0, time.UTC), true},
		{"Sunday 15:29 UTC is Sunday 23:29 in Shanghai", time.Date(2026, 11, 22, 15, 29, 0, 0, time.UTC), false},
		{"Monday 09:15 UTC is 17:15 in Shanghai", time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC), true},
		{"Monday 09:16 UTC is 17:16 in Shanghai", time.Date(2026, 11, 23, 9, 16, 0, 0, time.UTC), false},
		{"Monday 12:00 UTC is 20:00 in Shanghai, though noon on a workday in UTC", time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), false},
	} {
		r, err := WithdrawalRoute(d("50000.01"), tc.at, DefaultWorkday)
		if tc.ok {
			assert.NoError(t, err, tc.name)
			assert.Equal(t, RouteLargeValue, r, tc.name)
		} else {
			assert.ErrorIs(t, err, ErrOutsideLargeValueWindow, tc.name)
			assert.Empty(t, r, tc.name)
		}
	}
}

func TestWithdrawalRouteSuperEBankAnyTime(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 22, 3, 0, 0, 0, PlatformZone),   // Sunday night
		time.Date(2026, 11, 23, 17, 16, 0, 0, PlatformZone), // after the large-value close
	} {
		for _, amount := range []string{"0.01", "1000.00", "50000.00"} {
			r, err := WithdrawalRoute(d(amount), at, DefaultWorkday)
			require.NoError(t, err)
			assert.Equal(t, RouteSuperEBank, r, "%s at %s", amount, at)
		}
	}
}

func TestWithdrawalRouteCalendar(t *testing.T) {
	// A holiday Monday closes the window that Sunday 23:30 would open; the
	// calendar is asked about civil dates at 00:00 UTC.
	var asked []time.Time
	holidayMonday := func(d time.Time) bool {
		asked = append(asked, d)
		return DefaultWorkday(d) && !d.Equal(day(2026, 11, 23))
	}
	_, err := WithdrawalRoute(d("60000.00"), time.Date(2026, 11, 22, 23, 45, 0, 0, PlatformZone), holidayMonday)
	assert.ErrorIs(t, err, ErrOutsideLargeValueWindow)
	_, err = WithdrawalRoute(d("60000.00"), time.Date(2026, 11, 23, 10, 0, 0, 0, PlatformZone), holidayMonday)
	assert.ErrorIs(t, err, ErrOutsideLargeValueWindow)
	r, err := WithdrawalRoute(d("60000.00"), time.Date(2026, 11, 24, 10, 0, 0, 0, PlatformZone), holidayMonday)
	require.NoError(t, err)
	assert.Equal(t, RouteLargeValue, r)
	assert.Equal(t, []time.Time{day(2026, 11, 23), day(2026, 11, 23), day(2026, 11, 24)}, asked)

	// nil means DefaultWorkday.
	r, err = WithdrawalRoute(d("60000.00"), time.Date(2026, 11, 23, 10, 0, 0, 0, PlatformZone), nil)
	require.NoError(t, err)
	assert.Equal(t, RouteLargeValue, r)
}

func TestDefaultWorkday(t *testing.T) {
	// 2026-11-23 is a Monday.
	for i, want := range []bool{true, true, true, true, true, false, false} {
		assert.Equal(t, want, DefaultWorkday(day(2026, 11, 23+i)), day(2026, 11, 23+i).Weekday().String())
	}
}
