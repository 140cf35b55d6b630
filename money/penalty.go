package money

import (
	"github.com/shopspring/decimal"
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
