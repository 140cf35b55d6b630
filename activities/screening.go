package activities

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Screening rules (docs/rules.md "screening", "limits"; docs/screening.md).
const (
	minAge, maxAge          = 18, 60
	maxApplicationsIn30Days = 3
	minPassingScore         = 500
)

// Verdict is what the automated checks and the credit score make of an
// application.
type Verdict struct {
	Passed  bool
	Reasons []string // why screening refused, for the history and the borrower
	Score   int
	Grade   string
	Rate    decimal.Decimal
	// NeedsDueDiligence: over 50,000.00 or grade D/E (docs/rules.md "due diligence").
	NeedsDueDiligence bool
}

// screenApplication runs the automated checks and the credit score. It only
// reads (and stores the score), so a retry is harmless.
func (a *Activities) screenApplication(ctx context.Context, in ScreenInput) (Verdict, error) {
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return Verdict{}, classify(err)
	}
	user, err := a.q.UserGet(ctx, loan.BorrowerID)
	if err != nil {
		return Verdict{}, classify(err)
	}
	var reasons []string
	refuse := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }

	if user.Name == "" || user.IDNumber == "" || user.Phone == "" {
		refuse("real-name data incomplete")
	}
	if !kyc.ValidIDNumber(user.IDNumber) {
		refuse("ID number invalid")
	}
	age, ok := kyc.AgeOn(user.IDNumber, in.Today)
	if ok && (age < minAge || age > maxAge) {
		refuse("age %d outside %d–%d", age, minAge, maxAge)
	}
	// Only identities another user verified at the bank count: a stranger
	// who typed this borrower's number or phone at sign-up blocks nothing
	// (docs/security.md "Identities").
	if n, err := a.q.UserCountSharingIdentity(ctx, dbq.UserCountSharingIdentityParams{ID: user.ID, IDNumber: user.IDNumber, Phone: user.Phone}); err != nil {
		return Verdict{}, classify(err)
	} else if n > 0 {
		refuse("ID number or phone shared with another user")
	}
	// Ops lock a user on suspected fraud (docs/security.md "Risk controls"):
	// a loan applied for before the lock goes no further than one after it.
	if user.Locked {
		refuse("account locked")
	}
	if black, err := a.q.BlacklistHas(ctx, user.IDNumber); err != nil {
		return Verdict{}, classify(err)
	} else if black {
		refuse("on the blacklist")
	}
	if n, err := a.q.LoanCountRecentApplications(ctx, dbq.LoanCountRecentApplicationsParams{
		BorrowerID: user.ID, AppliedOn: in.Today.AddDate(0, 0, -30), ID: loan.ID,
	}); err != nil {
		return Verdict{}, classify(err)
	} else if n >= maxApplicationsIn30Days {
		refuse("more than %d applications in 30 days", maxApplicationsIn30Days)
	}
	if n, err := a.q.LoanCountOverdueByBorrower(ctx, user.ID); err != nil {
		return Verdict{}, classify(err)
	} else if n > 0 {
		refuse("an overdue loan is open")
	}
	// A borrower whose loan the platform wrote off (核销) has defaulted here
	// once; that is the strongest fraud signal it has (issue 9).
	if n, err := a.q.LoanCountWrittenOffByBorrower(ctx, user.ID); err != nil {
		return Verdict{}, classify(err)
	} else if n > 0 {
		refuse("a loan written off")
	}
	if loan.Amount.LessThan(lending.MinAmount) || loan.Amount.GreaterThan(lending.MaxAmount) {
		refuse("amount outside %s–%s", lending.MinAmount.StringFixed(2), lending.MaxAmount.StringFixed(2))
	}
	if owed, err := a.q.LoanOutstandingPrincipalByBorrower(ctx, dbq.LoanOutstandingPrincipalByBorrowerParams{BorrowerID: user.ID, ID: loan.ID}); err != nil {
		return Verdict{}, classify(err)
	} else if total := owed.Add(loan.Amount); total.GreaterThan(lending.PrincipalCap) {
		refuse("outstanding principal would be %s, over the %s cap", total.StringFixed(2), lending.PrincipalCap.StringFixed(2))
	}

	score := CreditScore(loan.Amount, loan.MonthlyIncome, int(loan.TermMonths), age)
	if score < minPassingScore {
		refuse("credit score %d below %d", score, minPassingScore)
	}
	if len(reasons) > 0 {
		return Verdict{Passed: false, Reasons: reasons, Score: score}, nil
	}
	grade := GradeFor(score)
	terms, err := money.TermsFor(grade)
	if err != nil {
		return Verdict{}, err
	}
	g := string(grade)
	if err := a.q.LoanSetScreening(ctx, dbq.LoanSetScreeningParams{ID: loan.ID, CreditScore: ptr(int32(score)), Grade: &g, AnnualRate: &terms.AnnualRate}); err != nil {
		return Verdict{}, classify(err)
	}
	return Verdict{
		Passed: true, Score: score, Grade: g, Rate: terms.AnnualRate,
		NeedsDueDiligence: loan.Amount.GreaterThan(lending.DueDiligenceAbove) || grade == "D" || grade == "E",
	}, nil
}

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

func ptr[T any](v T) *T { return &v }
