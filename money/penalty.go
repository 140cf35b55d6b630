package money

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// DailyPenaltyRate is penalty interest per day overdue: 0.05 % (docs/rules.md
// "Money rules", penalty interest).
var DailyPenaltyRate = decimal.RequireFromString("0.0005")

// DailyPenalty is one day's penalty interest on base, the overdue
// installment's unpaid principal + interest: round(base × 0.0005).
func DailyPenalty(base decimal.Decimal) decimal.Decimal {
	return roundRat(mul(rat(base), rat(DailyPenaltyRate)))
}

// PenaltyForDays is the penalty for days days overdue on an unchanged base.
// The page says "accrued per day, rounded per day", so it is days × the
// rounded daily amount, not round(base × 0.0005 × days): 10 days on 1,234.57
// are 10 × 0.62 = 6.20, not 6.17. days ≤ 0 gives 0. Penalty does not
// compound: the base is principal + interest only, never earlier penalty. A
// caller whose base changed (a partial payment) sums PenaltyForDays over the
// stretches with a constant base.
func PenaltyForDays(base decimal.Decimal, days int) decimal.Decimal {
	if days <= 0 {
		return decimal.Zero
	}
	return DailyPenalty(base).Mul(decimal.NewFromInt(int64(days)))
}

// DaysBetween is the platform's day count (lending.Days): calendar days from
// a to b (negative if b is before a), on their civil dates, each read in its
// own location, so clock times and daylight saving never shift the count.
func DaysBetween(a, b time.Time) int { return lending.Days(a, b) }

func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

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
