package money

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/shopspring/decimal"
)

// Split divides total among claims pro rata to weights (docs/rules.md "Money
// rules", investor shares): each share is the exact pro-rata value rounded
// down to 0.01, and the cents left over go one at a time to the largest
// fractional remainders, ties to the earliest (lowest index). The shares sum
// to total exactly and each differs from its exact pro-rata value by less
// than 0.01. A zero weight gets nothing (its remainder is 0, and fewer cents
// are left over than there are non-zero remainders).
//
// The whole computation is on integers, so remainders that are equal are
// seen as equal and the tie-break is exact.
//
// Edge cases, decided: a total with more than 2 decimals (never an amount)
// is split in units of its own last digit instead of cents, so the sum stays
// exact; a negative total is split as its absolute value and every share
// negated. Weights must be non-negative and, for a non-zero total, not all
// zero; anything else is a caller's bug, like a division by zero, and panics.
func Split(total decimal.Decimal, weights []decimal.Decimal) []decimal.Decimal {
	shares := make([]decimal.Decimal, len(weights))
	exp := int32(-2)
	if !isCents(total) {
		exp = total.Exponent()
	}
	units := total.Shift(-exp).BigInt()
	negative := units.Sign() < 0
	units.Abs(units)

	w, sum := integerWeights(weights)
	if units.Sign() == 0 {
		for i := range shares {
			shares[i] = decimal.New(0, exp)
		}
		return shares
	}
	if sum.Sign() == 0 {
		panic(fmt.Sprintf("money.Split: %s among %d claims of zero total weight", total, len(weights)))
	}

	floors := make([]*big.Int, len(w))
	rems := make([]*big.Int, len(w))
	given := new(big.Int)
	for i := range w {
		floors[i], rems[i] = new(big.Int).QuoRem(new(big.Int).Mul(units, w[i]), sum, new(big.Int))
		given.Add(given, floors[i])
	}
	// Every remainder shares the denominator sum, so comparing the integer
	// remainders compares the fractional parts exactly.
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].Cmp(rems[order[b]]) > 0 })
	left := new(big.Int).Sub(units, given).Int64() // < len(w): each remainder is under one unit
	for k := int64(0); k < left; k++ {
		floors[order[k]].Add(floors[order[k]], big.NewInt(1))
	}
	for i, f := range floors {
		if negative {
			f.Neg(f)
		}
		shares[i] = decimal.NewFromBigInt(f, exp)
	}
	return shares
}

// integerWeights scales the weights to integers over their finest common
// exponent, which leaves every ratio unchanged.
func integerWeights(weights []decimal.Decimal) ([]*big.Int, *big.Int) {
	exp := int32(0)
	for i, w := range weights {
		if w.Sign() < 0 {
			panic(fmt.Sprintf("money.Split: negative weight %s at %d", w, i))
		}
		exp = min(exp, w.Exponent())
	}
	out := make([]*big.Int, len(weights))
	sum := new(big.Int)
	for i, w := range weights {
		out[i] = w.Shift(-exp).BigInt()
		sum.Add(sum, out[i])
	}
	return out, sum
}

// ClaimShares splits every installment of a schedule among the claims (the
// bids' amounts): each installment's principal and its interest by Split,
// two separate splits, except that in the last installment each claim's
// principal is what remains of it.
//
// Why: splitting each installment on its own can leave a claim a cent short
// of its principal over the life of the loan, the cents landing with another
// claim each time. Taking the remainder last, as the schedule's own last
// period takes the remaining balance, returns every investor exactly what
// they lent, and the last installment's shares still sum to its principal
// because the claims sum to the loan amount. The price: in the last
// installment a claim's principal share may differ from its exact pro-rata
// value by up to a cent per earlier installment. docs/money.md has the case.
//
// Requires len(principals) == len(interests) and sum(claims) ==
// sum(principals). A claim's last principal is at least its exact pro-rata
// share of the last installment minus a cent per earlier installment; for a
// bid of 100.00 (the minimum) that is positive for every method and term,
// and only a tiny last bid (under about 13.00 on a 36-month loan) could in
// theory be driven below zero.
func ClaimShares(principals, interests, claims []decimal.Decimal) (principal, interest [][]decimal.Decimal) {
	principal = make([][]decimal.Decimal, len(principals))
	interest = make([][]decimal.Decimal, len(principals))
	paid := make([]decimal.Decimal, len(claims))
	for i := range paid {
		paid[i] = decimal.Zero
	}
	last := len(principals) - 1
	for k := range principals {
		interest[k] = Split(interests[k], claims)
		if k < last {
			principal[k] = Split(principals[k], claims)
		} else {
			principal[k] = make([]decimal.Decimal, len(claims))
			for i, c := range claims {
				principal[k][i] = c.Sub(paid[i])
			}
		}
		for i := range claims {
			paid[i] = paid[i].Add(principal[k][i])
		}
	}
	return principal, interest
}
