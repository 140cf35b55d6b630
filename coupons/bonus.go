package coupons

import (
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// The bonus of an interest coupon (docs/rules.md "Coupons"): for installment
// k, round(B × e × m / 12), B the claim's remaining principal before
// installment k, e the extra annual rate and m the months installment k
// covers within the coupon's months.

var twelve = decimal.NewFromInt(12)

// Bonus is round(B × e × m / 12), half-up to the fen, computed exactly: the
// product is an exact decimal and DivRound rounds the exact quotient.
func Bonus(remaining, extraRate decimal.Decimal, months int) decimal.Decimal {
	if months <= 0 || remaining.Sign() <= 0 {
		return decimal.Zero
	}
	return remaining.Mul(extraRate).Mul(decimal.NewFromInt(int64(months))).DivRound(twelve, 2)
}

// CoveredMonths is how many of the coupon's months installment k (1-based)
// of a schedule covers: a monthly installment covers the k-th month, so 1
// while k is within the coupon's months and 0 after; a bullet loan's one
// installment covers all termMonths, so min(termMonths, couponMonths).
func CoveredMonths(method money.Method, termMonths, k, couponMonths int) int {
	from, to := k-1, k
	if method == money.Bullet {
		from, to = 0, termMonths
	}
	return max(0, min(to, couponMonths)-from)
}

// Bonuses is the bonus of every installment of a claim: principal[k] is the
// claim's principal share of installment k+1, so the claim's remaining
// principal before installment k+1 is its amount less the shares before it.
func Bonuses(claim decimal.Decimal, principal []decimal.Decimal, extraRate decimal.Decimal, couponMonths int,
	method money.Method, termMonths int) []decimal.Decimal {
	out := make([]decimal.Decimal, len(principal))
	remaining := claim
	for k := range principal {
		out[k] = Bonus(remaining, extraRate, CoveredMonths(method, termMonths, k+1, couponMonths))
		remaining = remaining.Sub(principal[k])
	}
	return out
}

// Most is what a coupon may cost the bonus account at most, as a grant
// counts it (docs/coupons.md "Headroom"): a cash coupon its face; an interest
// coupon, whose bid is not known at the grant, the bonus of the largest claim
// a bid can be (lending.MaxAmount, a whole loan) held for all its months,
// round(MaxAmount × e × months / 12). A claim's principal only falls, so no
// schedule pays more.
func Most(kind Kind, amount, extraRate decimal.Decimal, months int) decimal.Decimal {
	if kind == Cash {
		return amount
	}
	return Bonus(lending.MaxAmount, extraRate, months)
}
