package money

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Grade is a loan's risk grade, "A" (best) to "E".
type Grade string

// RiskLevel is an investor's assessed risk tolerance, "C1" (conservative) to
// "C5" (aggressive).
type RiskLevel string

// GradeTerms is what a grade sets (docs/rules.md "Money rules", the grade table).
type GradeTerms struct {
	AnnualRate     decimal.Decimal
	ServiceFeeRate decimal.Decimal
	MinRiskLevel   RiskLevel
}

// Errors of TermsFor, ServiceFee and RiskLevelFromAnswers, wrapped with
// detail; match them with errors.Is.
var (
	ErrUnknownGrade = errors.New("unknown grade")
	ErrAssessment   = errors.New("the risk assessment has 10 answers, each 0 to 4")
)

// gradeTerms is the grade table, to the digit.
var gradeTerms = map[Grade]GradeTerms{
	"A": {decimal.RequireFromString("0.065"), decimal.RequireFromString("0.010"), "C1"},
	"B": {decimal.RequireFromString("0.085"), decimal.RequireFromString("0.015"), "C2"},
	"C": {decimal.RequireFromString("0.110"), decimal.RequireFromString("0.020"), "C3"},
	"D": {decimal.RequireFromString("0.140"), decimal.RequireFromString("0.030"), "C4"},
	"E": {decimal.RequireFromString("0.180"), decimal.RequireFromString("0.040"), "C5"},
}

// Grades lists the grades, best first.
func Grades() []Grade { return []Grade{"A", "B", "C", "D", "E"} }

// TermsFor is a grade's annual rate, service-fee rate and the investor risk
// level it needs. Grades are case-sensitive.
func TermsFor(g Grade) (GradeTerms, error) {
	t, ok := gradeTerms[g]
	if !ok {
		return GradeTerms{}, fmt.Errorf("%w: %q", ErrUnknownGrade, g)
	}
	return t, nil
}

// ServiceFee is the borrower's service fee at disbursement, deducted from
// what the borrower receives: round(principal × the grade's fee rate).
func ServiceFee(g Grade, principal decimal.Decimal) (decimal.Decimal, error) {
	t, err := TermsFor(g)
	if err != nil {
		return decimal.Zero, err
	}
	return roundRat(mul(rat(principal), rat(t.ServiceFeeRate))), nil
}

// RiskReserveRate is the borrower's contribution to the risk reserve at
// disbursement, whatever the grade.
var RiskReserveRate = decimal.RequireFromString("0.02")

// RiskReserve is round(principal × 2 %).
func RiskReserve(principal decimal.Decimal) decimal.Decimal {
	return roundRat(mul(rat(principal), rat(RiskReserveRate)))
}

// ValidRiskLevel reports whether l is one of C1..C5.
func ValidRiskLevel(l RiskLevel) bool {
	return len(l) == 2 && l[0] == 'C' && l[1] >= '1' && l[1] <= '5'
}

// Suitable reports whether an investor of level may bid on a loan of grade g
// (投资者适当性): A needs C1 or above, B C2, C C3, D C4, E C5. An unknown
// level or grade is never suitable.
func Suitable(level RiskLevel, g Grade) bool {
	t, ok := gradeTerms[g]
	// C1..C5 compare as strings in the order of their digit.
	return ok && ValidRiskLevel(level) && level >= t.MinRiskLevel
}

// RiskLevelFromAnswers scores the investor risk assessment (风险测评): 10
// answers, each 0 (most cautious) to 4 (most daring), summed to 0–40 and
// banded in five equal bands of 8 points (the first one point wider, as 0
// is a score): 0–8 C1, 9–16 C2, 17–24 C3, 25–32 C4, 33–40 C5. The rules page
// names the levels but not the questionnaire; this scoring is the platform's
// decision (docs/money.md).
func RiskLevelFromAnswers(answers []int) (RiskLevel, error) {
	if len(answers) != 10 {
		return "", fmt.Errorf("%w: got %d answers", ErrAssessment, len(answers))
	}
	sum := 0
	for i, a := range answers {
		if a < 0 || a > 4 {
			return "", fmt.Errorf("%w: answer %d is %d", ErrAssessment, i+1, a)
		}
		sum += a
	}
	switch {
	case sum <= 8:
		return "C1", nil
	case sum <= 16:
		return "C2", nil
	case sum <= 24:
		return "C3", nil
	case sum <= 32:
		return "C4", nil
	}
	return "C5", nil
}
