package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func days(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = day(s)
	}
	return out
}

// China's public holidays of 2026 as the State Council announced them
// (国办发明电, 4 Nov 2025), with their make-up workdays (调休).
var (
	holidays2026 = days(
		"2026-01-01", "2026-01-02", "2026-01-03", // 元旦
		"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21",
		"2026-02-22", "2026-02-23", // 春节
		"2026-04-04", "2026-04-05", "2026-04-06", // 清明节
		"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", // 劳动节
		"2026-06-19", "2026-06-20", "2026-06-21", // 端午节
		"2026-09-25", "2026-09-26", "2026-09-27", // 中秋节
		"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07", // 国庆节
	)
	workdays2026 = days("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
)

// shanghai is the wall clock at h:m in Asia/Shanghai (only its time of day counts).
func shanghai(h, m int) time.Time { return time.Date(2026, 1, 1, h, m, 0, 0, lending.Shanghai) }

// docs/rules.md "Withdrawal route": the large-value window follows the bank's
// calendar ops set, read from PostgreSQL by every replica. Across the Spring
// Festival of 2026: the make-up Saturday 14 Feb is a workday (its window
// opens Friday 23:30), the holiday Monday 16 Feb is not, and the last
// holiday, Monday 23 Feb, opens Tuesday's window at 23:30. New Year's Day
// 2027 closes the window of 31 Dec 2026's evening.
func TestLargeValueWindowFollowsTheCalendar(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User("investor", "400000.00")
	ops := e.User("ops", "")

	// Before the calendar is set, Monday to Friday: the make-up Saturday is closed,
	// the holiday Monday open.
	_, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("60000.00"), day("2026-02-14"), shanghai(10, 0))
	assert.Equal(t, errs.WithdrawalWindow, errs.Code(err), "a Saturday, no calendar yet")

	// Ops set the year on another replica's connections.
	other := calendar.New(dbtest.Another(t, e.Pool))
	y, err := other.Put(e.Ctx, ops.ID, 2026, holidays2026, workdays2026)
	require.NoError(t, err)
	assert.Len(t, y.Holidays, 33)
	assert.Len(t, y.Workdays, 6)
	_, err = other.Put(e.Ctx, ops.ID, 2027, days("2027-01-01"), nil)
	require.NoError(t, err)

	type try struct {
		on    string
		at    time.Time
		route string // "" refused: withdrawal_window
		why   string
	}
	for _, tc := range []try{
		{"2026-02-13", shanghai(23, 45), "large_value", "Friday 23:30 opens the make-up Saturday's window"},
		{"2026-02-14", shanghai(10, 0), "large_value", "the make-up Saturday is a workday"},
		{"2026-02-14", shanghai(23, 45), "", "Saturday 23:30 opens nothing: Sunday the 15th is a holiday"},
		{"2026-02-16", shanghai(10, 0), "", "a holiday Monday"},
		{"2026-02-22", shanghai(23, 45), "", "Sunday 23:30: Monday the 23rd is still a holiday"},
		{"2026-02-23", shanghai(10, 0), "", "the last day of the holiday"},
		{"2026-02-23", shanghai(23, 45), "large_value", "the last holiday's 23:30 opens Tuesday's window"},
		{"2026-02-24", shanghai(10, 0), "large_value", "back to work"},
		{"2026-02-28", shanghai(17, 16), "", "the make-up Saturday 28 Feb closes at 17:15 like any workday"},
		{"2026-12-31", shanghai(10, 0), "large_value", "a Thursday"},
		{"2026-12-31", shanghai(23, 45), "", "New Year's Day 2027 opens no window"},
	} {
		w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("60000.00"), day(tc.on), tc.at)
		if tc.route == "" {
			assert.Equal(t, errs.WithdrawalWindow, errs.Code(err), "%s %s: %s", tc.on, tc.at.Format("15:04"), tc.why)
			continue
		}
		if assert.NoError(t, err, "%s %s: %s", tc.on, tc.at.Format("15:04"), tc.why) {
			assert.Equal(t, tc.route, w.Route, tc.why)
		}
	}
	// Five went: 300,000.00; February's first is free, then 0.3 % of 60,000.00
	// = 180.00 three times; December's first is free. 400,000.00 − 300,000.00 − 540.00.
	assert.Equal(t, "99460.00", available(t, e, u.ID))
	// Up to 50,000.00 goes by super e-banking on any day, holidays too.
	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, dec("50000.00"), day("2026-10-01"), shanghai(3, 0))
	require.NoError(t, err)
	assert.Equal(t, "super_ebank", w.Route)
}
