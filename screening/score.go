package screening

import (
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/money"
)

// CreditScore is the platform's scorecard: 600 points, moved by the share of
// monthly income the loan's repayment would take (debt-to-income), by age band
// and by size. It is deliberately simple and fully deterministic so that every
// grade can be explained to the borrower (docs/screening.md).
func CreditScore(amount, monthlyIncome decimal.Decimal, term, age int) int {
	score := 600
	if monthlyIncome.Sign() <= 0 {
		return 300
	}
	// Monthly burden at the grade C rate with equal installments: principal/term plus a month's interest.
	payment := amount.Div(decimal.NewFromInt(int64(term))).Add(amount.Mul(decimal.RequireFromString("0.11")).Div(decimal.NewFromInt(12)))
	dti := payment.Div(monthlyIncome)
	switch {
	case dti.LessThanOrEqual(decimal.RequireFromString("0.20")):
		score += 160
	case dti.LessThanOrEqual(decimal.RequireFromString("0.35")):
		score += 110
	case dti.LessThanOrEqual(decimal.RequireFromString("0.50")):
		score += 60
	case dti.LessThanOrEqual(decimal.RequireFromString("0.70")):
		score += 0
	default:
		score -= 150
	}
	if age >= 25 && age <= 50 {
		score += 30
	}
	if amount.LessThanOrEqual(decimal.RequireFromString("20000.00")) {
		score += 20
	}
	return score
}

// GradeFor maps a score to the risk grade that prices the loan.
func GradeFor(score int) money.Grade {
	switch {
	case score >= 750:
		return "A"
	case score >= 700:
		return "B"
	case score >= 650:
		return "C"
	case score >= 600:
		return "D"
	default:
		return "E"
	}
}
