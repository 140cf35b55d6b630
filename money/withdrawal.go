package money

import (
	"errors"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// Withdrawal figures (docs/rules.md "Money rules", withdrawal fee and route).
var (
	WithdrawalFlatFee     = decimal.RequireFromString("3.00")
	WithdrawalFlatFeeUpTo = decimal.RequireFromString("1000.00")
	WithdrawalPercentFee  = decimal.RequireFromString("0.003")
	SuperEBankLimit       = decimal.RequireFromString("50000.00")
)

// WithdrawalFee is the fee for a withdrawal of amount. The first withdrawal
// of a calendar month is free (freeUsedThisMonth false); after that it is
// 3.00 for amounts up to 1,000.00 inclusive and round(amount × 0.3 %) above,
// so 1,000.01 also costs 3.00 (3.00003 rounded). The fee is charged on top of
// the amount; whether the balance covers both is the caller's check.
func WithdrawalFee(amount decimal.Decimal, freeUsedThisMonth bool) decimal.Decimal {
	if !freeUsedThisMonth {
		return decimal.Zero
	}
	if amount.LessThanOrEqual(WithdrawalFlatFeeUpTo) {
		return WithdrawalFlatFee
	}
	return roundRat(mul(rat(amount), rat(WithdrawalPercentFee)))
}

// Route is how the bank pays a withdrawal out.
type Route string

// The payment routes.
const (
	RouteSuperEBank Route = "super_ebank" // 超级网银: up to 50,000.00, any time
	RouteLargeValue Route = "large_value" // 大额支付系统: above, in its window
)

// ErrOutsideLargeValueWindow is WithdrawalRoute's answer to a withdrawal
// above 50,000.00 outside the large-value system's hours; the platform
// refuses it before it reaches the bank.
var ErrOutsideLargeValueWindow = errors.New("withdrawals over 50,000.00 go by the large-value system, open on workdays from 23:30 of the previous day to 17:15")

// Large-value window, minutes after midnight in the platform's time zone.
const (
	largeValueOpens  = 23*60 + 30 // on the day before the workday
	largeValueCloses = 17*60 + 15 // on the workday
)

// PlatformZone is the platform's time zone, Asia/Shanghai (lending.Shanghai).
var PlatformZone = lending.Shanghai

// WithdrawalRoute picks the route for a withdrawal of amount requested at
// at (any zone; judged on the wall clock of Asia/Shanghai). Up to 50,000.00
// inclusive: super e-banking at any time. Above: the large-value system,
// whose window for a workday W runs from 23:30:00 of the day before W to
// 17:15:00 on W, both ends inclusive (17:15:00.001 is outside); outside it,
// ErrOutsideLargeValueWindow. So Sunday 23:30 opens Monday's window and
// Friday 23:30 opens nothing.
//
// isWorkday is asked about civil dates at 00:00 UTC; nil means
// DefaultWorkday.
func WithdrawalRoute(amount decimal.Decimal, at time.Time, isWorkday func(time.Time) bool) (Route, error) {
	if amount.LessThanOrEqual(SuperEBankLimit) {
		return RouteSuperEBank, nil
	}
	if isWorkday == nil {
		isWorkday = DefaultWorkday
	}
	t := at.In(PlatformZone)
	today := civil(t)
	minute := t.Hour()*60 + t.Minute()
	exactMinute := t.Second() == 0 && t.Nanosecond() == 0
	switch {
	case minute >= largeValueOpens:
		if isWorkday(today.AddDate(0, 0, 1)) {
			return RouteLargeValue, nil
		}
	case minute < largeValueCloses || minute == largeValueCloses && exactMinute:
		if isWorkday(today) {
			return RouteLargeValue, nil
		}
	}
	return "", ErrOutsideLargeValueWindow
}

// DefaultWorkday reports whether d's civil date is Monday to Friday: the
// calendar of a day ops have not set. Public holidays and make-up workdays
// (调休) are the bank's calendar's (calendar.Workdays), which the platform
// passes to WithdrawalRoute.
func DefaultWorkday(d time.Time) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
