package money

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// Accrual: what has built up by a given day, at the rules' rates: the
// interest of an early repayment's current period (docs/rules.md "Early
// repayment") and an installment's penalty interest between the steps that
// store it (docs/rules.md "Penalty interest"). The penalty's daily amount is
// penalty.go's.

// DaysBetween is the platform's day count (lending.Days): calendar days from
// a to b (negative if b is before a), on their civil dates, each read in its
// own location, so clock times and daylight saving never shift the count.
func DaysBetween(a, b time.Time) int { return lending.Days(a, b) }

// AccruedInterest is the interest of the current period earned by asOf, for
// early repayment (docs/rules.md "Money rules", early repayment): periodInterest
// × actual days since periodStart / days in the period, rounded once.
// periodStart is the previous due date (the disbursement date in the first
// period) and periodEnd the current due date.
//
// Day counting, decided: days elapsed = asOf − periodStart in calendar
// days, so repaying on periodStart itself accrues nothing and each later
// day accrues one more day. asOf on or after periodEnd (or an empty period)
// gives the whole periodInterest: it is never exceeded. asOf before
// periodStart gives 0.
func AccruedInterest(periodInterest decimal.Decimal, periodStart, periodEnd, asOf time.Time) decimal.Decimal {
	total := DaysBetween(periodStart, periodEnd)
	elapsed := DaysBetween(periodStart, asOf)
	switch {
	case total <= 0 || elapsed >= total:
		return periodInterest
	case elapsed <= 0:
		return decimal.Zero
	}
	return roundRat(quo(mul(rat(periodInterest), ratInt(int64(elapsed))), ratInt(int64(total))))
}

// PayoffAmount is what early repayment (提前还款) on asOf costs: the
// remaining principal, and the current period's interest accrued by days
// (AccruedInterest). No penalty, and no interest of later periods.
func PayoffAmount(remainingPrincipal, periodInterest decimal.Decimal, periodStart, periodEnd, asOf time.Time) (principal, interest decimal.Decimal) {
	return remainingPrincipal, AccruedInterest(periodInterest, periodStart, periodEnd, asOf)
}

// PenaltyAsOf is an installment's penalty interest as of day: what had
// accrued through from (the later of its due date and its last accrual),
// plus the days since then on the unpaid base, which has not changed since
// (every payment and compensation accrues first). A day on or before from adds nothing.
func PenaltyAsOf(accrued, unpaidBase decimal.Decimal, from, day time.Time) decimal.Decimal {
	return accrued.Add(PenaltyForDays(unpaidBase, DaysBetween(from, day)))
}
