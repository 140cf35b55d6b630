// Package money owns every money rule of the rules page (docs/rules.md "Money
// rules"): repayment schedules and due dates, investor shares, payment
// allocation, penalty interest, early payoff, fees and the risk reserve by
// grade, investor suitability, and the withdrawal fee and route. It does no
// I/O; every function is pure and safe to call from workflow code.
//
// Amounts are decimal.Decimal with 2 places (yuan and fen); nothing here
// touches a float. Every rule point computes its value exactly, as a rational
// number, and rounds it half-up to 0.01 once (Round). A monthly rate such as
// 0.085/12 has no finite decimal form, so a rate cut to any number of digits
// would turn an exact half cent (204.00 × 0.085/12 = 1.445) into a value just
// below it and round it the wrong way; exact arithmetic cannot.
//
// Civil dates (disbursement, due dates, "as of" days) are time.Time at 00:00
// UTC. docs/money.md lists each rule, its source and every decision taken
// where the rules page is silent.
package money

import (
	"errors"
	"math/big"

	"github.com/shopspring/decimal"
)

// Errors of ValidAmount, wrapped with detail; match them with errors.Is.
var (
	ErrAmountNotPositive = errors.New("amount must be greater than 0")
	ErrAmountPrecision   = errors.New("amount must have at most 2 decimal places")
)

var cent = decimal.New(1, -2)

// Round rounds half-up to 0.01: 2.675 → 2.68, 2.6749 → 2.67. Amounts are
// positive; a negative value (a reversal, a difference) rounds half away
// from zero, mirroring the positive one: -2.675 → -2.68.
func Round(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// ValidAmount reports whether d can be an amount of money: greater than 0
// and with at most 2 decimal places (trailing zeros such as 1.500 are fine).
func ValidAmount(d decimal.Decimal) error {
	if d.Sign() <= 0 {
		return ErrAmountNotPositive
	}
	if !isCents(d) {
		return ErrAmountPrecision
	}
	return nil
}

func isCents(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

// rat is the exact rational value of d.
func rat(d decimal.Decimal) *big.Rat { return d.Rat() }

// ratInt is n as a rational.
func ratInt(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

// mul and quo return new rationals so that callers never alias their inputs.
func mul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }
func quo(a, b *big.Rat) *big.Rat { return new(big.Rat).Quo(a, b) }

// roundRat is Round for an exact rational: half away from zero to 0.01,
// computed on integers so that an exact half cent is seen as one.
func roundRat(q *big.Rat) decimal.Decimal {
	// cents = floor((2·|num|·100 + den) / (2·den)), i.e. floor(|q|·100 + ½).
	num := new(big.Int).Abs(q.Num())
	den := q.Denom()
	n := new(big.Int).Mul(num, big.NewInt(200))
	n.Add(n, den)
	c := n.Quo(n, new(big.Int).Lsh(den, 1))
	if q.Sign() < 0 {
		c.Neg(c)
	}
	return decimal.NewFromBigInt(c, -2)
}
