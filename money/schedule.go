package money

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/shopspring/decimal"
)

// Method is a repayment method (docs/rules.md "Money rules", the method table).
type Method string

// The API names of the repayment methods.
const (
	EqualInstallment Method = "equal_installment" // 等额本息
	EqualPrincipal   Method = "equal_principal"   // 等额本金
	InterestOnly     Method = "interest_only"     // 每月还息到期还本 / 先息后本
	Bullet           Method = "bullet"            // 一次性还本付息
)

// Term limits (docs/rules.md "The loan lifecycle", limits).
const (
	MinTermMonths = 1
	MaxTermMonths = 36
)

// Errors of ParseMethod and Schedule, wrapped with detail; match them with
// errors.Is. A principal that is not an amount fails with ValidAmount's errors.
var (
	ErrUnknownMethod = errors.New("unknown repayment method")
	ErrNegativeRate  = errors.New("annual rate must not be negative")
	ErrTerm          = errors.New("term must be 1 to 36 months")
)

// ParseMethod accepts exactly the API names, case-sensitive, so that what is
// stored is always one of the four constants.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case EqualInstallment, EqualPrincipal, InterestOnly, Bullet:
		return m, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownMethod, s)
}

// Installment is one period of a schedule. Payment = Principal + Interest;
// RemainingPrincipal is the balance once this installment is paid.
type Installment struct {
	No                 int
	DueDate            time.Time
	Principal          decimal.Decimal
	Interest           decimal.Decimal
	Payment            decimal.Decimal
	RemainingPrincipal decimal.Decimal
}

// DueDate is period k's due date for a loan disbursed on start: start's day
// of month, k months later, clamped to that month's last day. It always
// counts from the original day, never from the previous due date, so a loan
// of 31 Jan is due 28 (or 29) Feb, then 31 Mar, then 30 Apr. start's civil
// date is read in its own location; the result is 00:00 UTC. DueDate(start, 0)
// is start's civil date.
func DueDate(start time.Time, k int) time.Time {
	y, m, d := start.Date()
	// time.Date normalises month overflow, so day 1 of the target month is
	// safe; adding months to day 31 directly would spill into the next month.
	first := time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// MonthlyInterest is one month's interest on balance: round(balance × r) with
// r = annualRate / 12 kept exact.
func MonthlyInterest(balance, annualRate decimal.Decimal) decimal.Decimal {
	return roundRat(mul(rat(balance), monthlyRate(annualRate)))
}

func monthlyRate(annualRate decimal.Decimal) *big.Rat { return quo(rat(annualRate), ratInt(12)) }

// Schedule is the repayment schedule of a loan of principal at annualRate
// over termMonths by method, disbursed on start (docs/rules.md "Money rules").
// With r = annualRate/12 exact, P the principal, n the term and B_k the
// balance after installment k:
//
//   - equal_installment: A = round(P·r·(1+r)^n / ((1+r)^n − 1)),
//     interest_k = round(B_{k−1}·r), principal_k = A − interest_k; the last
//     period's principal is the whole remaining balance and its payment is
//     that principal plus its interest, so it may differ from A by cents.
//     At a zero rate the formula is 0/0; its limit P/n is used:
//     A = round(P/n), the last period taking the remainder.
//   - equal_principal: principal_k = round(P/n), the last period takes the
//     remainder; interest_k = round(B_{k−1}·r).
//   - interest_only: interest_k = round(P·r); principal 0 until the last
//     period, which adds all of it.
//   - bullet: a single installment (No 1) due at month n with principal P and
//     interest round(P·r·n) — simple interest, one rounding.
//
// Rounded periodic principals could in theory overrun the balance before
// the last period (only for amounts of a few yuan over many months, far
// below the 1,000.00 minimum loan); principal is then capped at the balance,
// so a balance never goes negative and the parts always sum to P.
//
// Errors: ErrTerm for a term outside 1–36, ValidAmount's errors for the
// principal, ErrNegativeRate, ErrUnknownMethod. A zero rate is allowed.
func Schedule(principal, annualRate decimal.Decimal, termMonths int, method Method, start time.Time) ([]Installment, error) {
	if termMonths < MinTermMonths || termMonths > MaxTermMonths {
		return nil, fmt.Errorf("%w: %d", ErrTerm, termMonths)
	}
	if err := ValidAmount(principal); err != nil {
		return nil, fmt.Errorf("principal %s: %w", principal, err)
	}
	if annualRate.Sign() < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNegativeRate, annualRate)
	}
	if _, err := ParseMethod(string(method)); err != nil {
		return nil, err
	}
	n := termMonths
	r := monthlyRate(annualRate)
	p := rat(principal)

	if method == Bullet {
		interest := roundRat(mul(mul(p, r), ratInt(int64(n))))
		return []Installment{{
			No: 1, DueDate: DueDate(start, n),
			Principal: principal, Interest: interest, Payment: principal.Add(interest),
			RemainingPrincipal: decimal.Zero,
		}}, nil
	}

	var level decimal.Decimal // A for equal_installment, the principal part for equal_principal
	switch method {
	case EqualInstallment:
		level = equalPayment(p, r, n)
	case EqualPrincipal:
		level = roundRat(quo(p, ratInt(int64(n))))
	}
	flatInterest := roundRat(mul(p, r)) // interest_only's every period

	out := make([]Installment, 0, n)
	balance := principal
	for k := 1; k <= n; k++ {
		var prin, interest decimal.Decimal
		switch method {
		case EqualInstallment:
			interest = roundRat(mul(rat(balance), r))
			prin = level.Sub(interest)
		case EqualPrincipal:
			interest = roundRat(mul(rat(balance), r))
			prin = level
		case InterestOnly:
			interest = flatInterest
			prin = decimal.Zero
		}
		if k == n || prin.GreaterThan(balance) {
			prin = balance
		}
		balance = balance.Sub(prin)
		out = append(out, Installment{
			No: k, DueDate: DueDate(start, k),
			Principal: prin, Interest: interest, Payment: prin.Add(interest),
			RemainingPrincipal: balance,
		})
	}
	return out, nil
}

// equalPayment is the level payment A of equal installments. A is never below
// round(P·r), the first (and largest) interest, because the exact A exceeds
// P·r and rounding keeps order; so principal_k = A − interest_k is never
// negative.
func equalPayment(p, r *big.Rat, n int) decimal.Decimal {
	if r.Sign() == 0 {
		return roundRat(quo(p, ratInt(int64(n))))
	}
	one := ratInt(1)
	q := new(big.Rat).Add(one, r)
	pow := ratInt(1)
	for range n {
		pow.Mul(pow, q)
	}
	return roundRat(quo(mul(mul(p, r), pow), new(big.Rat).Sub(pow, one)))
}
