// Package screening is the automated screening of a loan application
// (docs/rules.md "Screening", "Limits"; docs/screening.md): the refusals,
// the credit score and the grade it gives, and whether ops must decide
// (due diligence). The Screen activity (activities/screen.go) calls Screen and
// moves the loan by its verdict.
package screening

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/pii"
)

// Screening rules (docs/rules.md "Screening", "Limits"; docs/screening.md).
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
	// NeedsDueDiligence: over 50,000.00 or grade D/E (docs/rules.md "Due diligence").
	NeedsDueDiligence bool
}

// Facts is what screening reads of an application and its borrower.
type Facts struct {
	Loan dbq.Loan
	User dbq.User
	// SharedIdentity counts the other users who verified the borrower's ID
	// number or phone at the bank.
	SharedIdentity     int64
	Blacklisted        bool
	RecentApplications int64 // the borrower's others in the 30 days before the business date
	OverdueLoans       int64
	WrittenOffLoans    int64
	// Outstanding is the borrower's outstanding principal on the platform
	// without this loan.
	Outstanding decimal.Decimal
}

// Screen screens loan's application on today: it reads the facts, judges
// them, and stores a passing application's score, grade and rate. It only
// reads and stores that, so a retry is harmless.
func Screen(ctx context.Context, q *dbq.Queries, loanID int64, today time.Time) (Verdict, error) {
	f, err := read(ctx, q, loanID, today)
	if err != nil {
		return Verdict{}, err
	}
	v, err := Judge(f, today)
	if err != nil || !v.Passed {
		return v, err
	}
	score := int32(v.Score)
	if err := q.LoanSetScreening(ctx, dbq.LoanSetScreeningParams{ID: loanID, CreditScore: &score, Grade: &v.Grade, AnnualRate: &v.Rate}); err != nil {
		return Verdict{}, err
	}
	return v, nil
}

func read(ctx context.Context, q *dbq.Queries, loanID int64, today time.Time) (Facts, error) {
	var f Facts
	var err error
	if f.Loan, err = q.LoanGet(ctx, loanID); err != nil {
		return f, err
	}
	if f.User, err = q.UserGet(ctx, f.Loan.BorrowerID); err != nil {
		return f, err
	}
	u := f.User
	// The numbers are compared by their keyed hashes; Judge reads them opened.
	if f.User.IDNumber, err = pii.Open(u.IDNumber); err != nil {
		return f, err
	}
	if f.User.Phone, err = pii.Open(u.Phone); err != nil {
		return f, err
	}
	f.User.CardNumber = nil // not a fact of screening; kept sealed nowhere else
	if f.SharedIdentity, err = q.UserCountSharingIdentity(ctx, dbq.UserCountSharingIdentityParams{
		ID: u.ID, IDNumberHash: u.IDNumberHash, PhoneHash: u.PhoneHash}); err != nil {
		return f, err
	}
	if f.Blacklisted, err = q.BlacklistHas(ctx, u.IDNumberHash); err != nil {
		return f, err
	}
	if f.RecentApplications, err = q.LoanCountRecentApplications(ctx, dbq.LoanCountRecentApplicationsParams{
		BorrowerID: u.ID, AppliedOn: today.AddDate(0, 0, -30), ID: loanID,
	}); err != nil {
		return f, err
	}
	if f.OverdueLoans, err = q.LoanCountOverdueByBorrower(ctx, u.ID); err != nil {
		return f, err
	}
	if f.WrittenOffLoans, err = q.LoanCountWrittenOffByBorrower(ctx, u.ID); err != nil {
		return f, err
	}
	f.Outstanding, err = q.LoanOutstandingPrincipalByBorrower(ctx, dbq.LoanOutstandingPrincipalByBorrowerParams{BorrowerID: u.ID, ID: loanID})
	return f, err
}

// Judge is the screening rules: every refusal the facts earn, each recorded,
// then the credit score, its grade and rate, and whether ops decide.
func Judge(f Facts, today time.Time) (Verdict, error) {
	loan, user := f.Loan, f.User
	var reasons []string
	refuse := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }

	if user.Name == "" || user.IDNumber == "" || user.Phone == "" {
		refuse("real-name data incomplete")
	}
	if !kyc.ValidIDNumber(user.IDNumber) {
		refuse("ID number invalid")
	}
	age, ok := kyc.AgeOn(user.IDNumber, today)
	if ok && (age < minAge || age > maxAge) {
		refuse("age %d outside %d–%d", age, minAge, maxAge)
	}
	// Only identities another user verified at the bank count: a stranger
	// who typed this borrower's number or phone at sign-up blocks nothing
	// (docs/security.md "Identities").
	if f.SharedIdentity > 0 {
		refuse("ID number or phone shared with another user")
	}
	// Ops lock a user on suspected fraud (docs/security.md "Risk controls"):
	// a loan applied for before the lock goes no further than one after it.
	if user.Locked {
		refuse("account locked")
	}
	if f.Blacklisted {
		refuse("on the blacklist")
	}
	if f.RecentApplications >= maxApplicationsIn30Days {
		refuse("more than %d applications in 30 days", maxApplicationsIn30Days)
	}
	if f.OverdueLoans > 0 {
		refuse("an overdue loan is open")
	}
	// A borrower whose loan the platform wrote off (核销) has defaulted here
	// once; that is the strongest fraud signal it has (issue 9).
	if f.WrittenOffLoans > 0 {
		refuse("a loan written off")
	}
	if loan.Amount.LessThan(lending.MinAmount) || loan.Amount.GreaterThan(lending.MaxAmount) {
		refuse("amount outside %s–%s", lending.MinAmount.StringFixed(2), lending.MaxAmount.StringFixed(2))
	}
	if total := f.Outstanding.Add(loan.Amount); total.GreaterThan(lending.PrincipalCap) {
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
	return Verdict{
		Passed: true, Score: score, Grade: string(grade), Rate: terms.AnnualRate,
		NeedsDueDiligence: loan.Amount.GreaterThan(lending.DueDiligenceAbove) || grade == "D" || grade == "E",
	}, nil
}
