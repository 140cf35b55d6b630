package money

import "github.com/shopspring/decimal"

// Due is what one installment still owes, by part.
type Due struct {
	Penalty, Interest, Principal decimal.Decimal
}

// Total is Penalty + Interest + Principal.
func (d Due) Total() decimal.Decimal { return d.Penalty.Add(d.Interest).Add(d.Principal) }

// Allocate applies a payment that may not cover everything due (docs/rules.md
// "Money rules"): to the oldest installment first (index 0), and within an
// installment to penalty, then interest, then principal. applied[i] is what
// dues[i] receives, part by part; leftover is what remains of the payment
// once everything is covered. Invariants: applied never exceeds what is due,
// part by part, and the sum of applied plus leftover is the payment.
//
// A negative part counts as nothing due; a payment ≤ 0 applies nothing and is
// returned as the leftover. No rounding happens: the inputs are amounts.
func Allocate(payment decimal.Decimal, dues []Due) (applied []Due, leftover decimal.Decimal) {
	applied = make([]Due, len(dues))
	left := payment
	take := func(owed decimal.Decimal) decimal.Decimal {
		if left.Sign() <= 0 || owed.Sign() <= 0 {
			return decimal.Zero
		}
		t := decimal.Min(left, owed)
		left = left.Sub(t)
		return t
	}
	for i, d := range dues {
		// The order of the three takes is the rule.
		applied[i].Penalty = take(d.Penalty)
		applied[i].Interest = take(d.Interest)
		applied[i].Principal = take(d.Principal)
	}
	return applied, left
}
