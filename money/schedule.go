// Package money owns every money rule of the domain page (DOMAIN.md "Money
// rules"): repayment schedules, investor shares, penalty interest, early
// payoff, fees by grade and the withdrawal fee and route. Pure functions over
// decimal.Decimal; amounts are rounded half-up to 0.01 at the rule points the
// domain page names, and nowhere else. docs/money.md lists each decision.
package money

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// divPrecision is the number of decimal places kept by divisions before a
// rule rounds: far more than any amount needs, so rounding happens only where
// the rule says.
const divPrecision = 30

var (
	cent   = decimal.New(1, -2)
	twelve = decimal.NewFromInt(12)
)

// Round rounds half-up to 0.01 (half away from zero: a negative amount
// mirrors the positive one, which only refunds ever use).
func Round(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// ValidAmount: positive and at most 2 decimal places.
func ValidAmount(d decimal.Decimal) error {
	if d.Sign() <= 0 {
		return errors.New("amount must be positive")
	}
	if !d.Equal(d.Truncate(2)) {
		return errors.New("amount has more than 2 decimal places")
	}
	return nil
}

// Method is a repayment method.
type Method string

const (
	EqualInstallment Method = "equal_installment" // 等额本息
	EqualPrincipal   Method = "equal_principal"   // 等额本金
	InterestOnly     Method = "interest_only"     // 先息后本
	Bullet           Method = "bullet"            // 一次性还本付息
)

// ParseMethod accepts the API names.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case EqualInstallment, EqualPrincipal, InterestOnly, Bullet:
		return m, nil
	}
	return "", fmt.Errorf("unknown repayment method %q", s)
}

// Installment is one period of a schedule.
type Installment struct {
	No                 int
	DueDate            time.Time
	Principal          decimal.Decimal
	Interest           decimal.Decimal
	Payment            decimal.Decimal
	RemainingPrincipal decimal.Decimal
}

// DueDate is period k's due date: start's day of month, k months later,
// clamped to that month's last day. It always counts from the original day,
// so 31 Jan → 28/29 Feb → 31 Mar (never 28 Mar).
func DueDate(start time.Time, k int) time.Time {
	y, m, d := start.Date()
	first := time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// Schedule builds the repayment schedule of a loan disbursed on start.
// Errors: principal not a valid amount, a negative rate, a term outside 1–36,
// an unknown method.
func Schedule(principal, annualRate decimal.Decimal, termMonths int, method Method, start time.Time) ([]Installment, error) {
	if err := ValidAmount(principal); err != nil {
		return nil, err
	}
	if annualRate.Sign() < 0 {
		return nil, errors.New("annual rate must not be negative")
	}
	if termMonths < 1 || termMonths > 36 {
		return nil, errors.New("term must be 1 to 36 months")
	}
	if _, err := ParseMethod(string(method)); err != nil {
		return nil, err
	}
	r := annualRate.DivRound(twelve, divPrecision)
	n := termMonths
	if method == Bullet {
		// One period at month n: principal P, interest round(P·r·n).
		interest := Round(principal.Mul(r).Mul(decimal.NewFromInt(int64(n))))
		return []Installment{{No: 1, DueDate: DueDate(start, n), Principal: principal, Interest: interest,
			Payment: principal.Add(interest), RemainingPrincipal: decimal.Zero}}, nil
	}

	out := make([]Installment, 0, n)
	balance := principal
	payment := decimal.Zero
	switch method {
	case EqualInstallment:
		payment = equalPayment(principal, r, n)
	case EqualPrincipal:
		payment = Round(principal.DivRound(decimal.NewFromInt(int64(n)), divPrecision)) // principal part
	}
	for k := 1; k <= n; k++ {
		var p, i decimal.Decimal
		switch method {
		case EqualInstallment:
			i = Round(balance.Mul(r))
			p = payment.Sub(i)
		case EqualPrincipal:
			i = Round(balance.Mul(r))
			p = payment
		case InterestOnly:
			i = Round(principal.Mul(r))
			p = decimal.Zero
		}
		if k == n || p.GreaterThan(balance) {
			// The last period takes whatever principal remains, so the parts
			// always sum to the loan amount exactly.
			p = balance
		}
		if p.Sign() < 0 {
			p = decimal.Zero
		}
		balance = balance.Sub(p)
		out = append(out, Installment{No: k, DueDate: DueDate(start, k), Principal: p, Interest: i,
			Payment: p.Add(i), RemainingPrincipal: balance})
	}
	return out, nil
}

// equalPayment is A = round(P·r·(1+r)^n / ((1+r)^n − 1)); with a zero rate
// the formula is 0/0 and the payment is round(P/n).
func equalPayment(p, r decimal.Decimal, n int) decimal.Decimal {
	if r.IsZero() {
		return Round(p.DivRound(decimal.NewFromInt(int64(n)), divPrecision))
	}
	pow := decimal.NewFromInt(1).Add(r).Pow(decimal.NewFromInt(int64(n)))
	return Round(p.Mul(r).Mul(pow).DivRound(pow.Sub(decimal.NewFromInt(1)), divPrecision))
}
