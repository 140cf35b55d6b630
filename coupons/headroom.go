package coupons

import (
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/errs"
)

// Budget is the bonus account as a grant sees it (docs/rules.md "Coupons"):
// its available balance, every coupon liability not yet paid (unused and
// reserved coupons' most, the bonuses still expected on used ones, the
// payments refused and waiting for ops), and the headroom between them.
type Budget struct {
	Available, Liabilities, Headroom decimal.Decimal
}

// NewBudget is the budget of available and liabilities.
func NewBudget(available, liabilities decimal.Decimal) Budget {
	return Budget{Available: available, Liabilities: liabilities, Headroom: available.Sub(liabilities)}
}

// Admit refuses a new coupon whose most the headroom does not cover:
// bonus_budget_exceeded. A most exactly equal to the headroom is granted.
func (b Budget) Admit(most decimal.Decimal) error {
	if most.GreaterThan(b.Headroom) {
		return errs.New(errs.BonusBudgetExceeded, "the coupon may cost %s; the bonus account's headroom is %s (available %s, liabilities %s)",
			most.StringFixed(2), b.Headroom.StringFixed(2), b.Available.StringFixed(2), b.Liabilities.StringFixed(2))
	}
	return nil
}
