package money

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Split divides total among claims pro rata to weights (DOMAIN.md "Investor
// shares"): each share is rounded down to 0.01, and the cents left over go
// one at a time to the largest fractional remainders, ties to the earliest
// claim. The shares sum to total exactly and each differs from its exact
// pro-rata value by less than 0.01. Zero or no weights get nothing.
func Split(total decimal.Decimal, weights []decimal.Decimal) []decimal.Decimal {
	shares := make([]decimal.Decimal, len(weights))
	sum := decimal.Zero
	for _, w := range weights {
		sum = sum.Add(w)
	}
	if sum.Sign() <= 0 || total.IsZero() {
		for i := range shares {
			shares[i] = decimal.Zero
		}
		return shares
	}
	rems := make([]decimal.Decimal, len(weights))
	given := decimal.Zero
	for i, w := range weights {
		exact := total.Mul(w).DivRound(sum, divPrecision)
		shares[i] = exact.RoundFloor(2)
		rems[i] = exact.Sub(shares[i])
		given = given.Add(shares[i])
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].GreaterThan(rems[order[b]]) })
	left := total.Sub(given).Div(cent).IntPart()
	for k := 0; k < int(left); k++ {
		shares[order[k%len(order)]] = shares[order[k%len(order)]].Add(cent)
	}
	return shares
}

// Due is what one installment still owes.
type Due struct {
	Penalty, Interest, Principal decimal.Decimal
}

// Allocate applies a payment that may not cover everything due: the oldest
// installment (index 0) first, and within one, penalty, then interest, then
// principal (DOMAIN.md "Money rules"). It returns what each installment got
// and what is left of the payment.
func Allocate(payment decimal.Decimal, dues []Due) ([]Due, decimal.Decimal) {
	applied := make([]Due, len(dues))
	left := payment
	take := func(owed decimal.Decimal) decimal.Decimal {
		t := decimal.Min(left, owed)
		if t.Sign() < 0 {
			t = decimal.Zero
		}
		left = left.Sub(t)
		return t
	}
	for i, d := range dues {
		applied[i] = Due{Penalty: take(d.Penalty), Interest: take(d.Interest), Principal: take(d.Principal)}
	}
	return applied, left
}

// DailyPenaltyRate is 0.05 % a day (DOMAIN.md "Penalty interest").
var DailyPenaltyRate = decimal.RequireFromString("0.0005")

// DailyPenalty is one day's penalty on an overdue installment's unpaid
// principal + interest, rounded per day.
func DailyPenalty(base decimal.Decimal) decimal.Decimal { return Round(base.Mul(DailyPenaltyRate)) }

// PenaltyForDays accrues the penalty day by day: days × the rounded daily amount.
func PenaltyForDays(base decimal.Decimal, days int) decimal.Decimal {
	if days <= 0 {
		return decimal.Zero
	}
	return DailyPenalty(base).Mul(decimal.NewFromInt(int64(days)))
}

// AccruedInterest is the current period's interest earned by asOf, by actual
// days: round(periodInterest × days since periodStart / days in the period),
// never more than the period's interest (DOMAIN.md "Early repayment").
func AccruedInterest(periodInterest decimal.Decimal, periodStart, periodEnd, asOf time.Time) decimal.Decimal {
	total := daysBetween(periodStart, periodEnd)
	elapsed := daysBetween(periodStart, asOf)
	if total <= 0 || elapsed >= total {
		return periodInterest
	}
	if elapsed <= 0 {
		return decimal.Zero
	}
	return Round(periodInterest.Mul(decimal.NewFromInt(int64(elapsed))).DivRound(decimal.NewFromInt(int64(total)), divPrecision))
}

// PayoffAmount is early repayment: the remaining principal and the current
// period's interest accrued by days; no penalty, and later periods' interest
// is never owed.
func PayoffAmount(remainingPrincipal, periodInterest decimal.Decimal, periodStart, periodEnd, asOf time.Time) (principal, interest decimal.Decimal) {
	return remainingPrincipal, AccruedInterest(periodInterest, periodStart, periodEnd, asOf)
}

func daysBetween(a, b time.Time) int { return int(b.Sub(a) / (24 * time.Hour)) }

// Grade is a risk grade, A (best) to E.
type Grade string

// RiskLevel is an investor's assessed risk tolerance, C1 (conservative) to C5.
type RiskLevel string

// GradeTerms is what a grade sets (DOMAIN.md grade table).
type GradeTerms struct {
	AnnualRate     decimal.Decimal
	ServiceFeeRate decimal.Decimal
	MinRiskLevel   RiskLevel
}

var gradeTerms = map[Grade]GradeTerms{
	"A": {decimal.RequireFromString("0.065"), decimal.RequireFromString("0.010"), "C1"},
	"B": {decimal.RequireFromString("0.085"), decimal.RequireFromString("0.015"), "C2"},
	"C": {decimal.RequireFromString("0.110"), decimal.RequireFromString("0.020"), "C3"},
	"D": {decimal.RequireFromString("0.140"), decimal.RequireFromString("0.030"), "C4"},
	"E": {decimal.RequireFromString("0.180"), decimal.RequireFromString("0.040"), "C5"},
}

// TermsFor returns a grade's rate, service fee and the investor level it needs.
func TermsFor(g Grade) (GradeTerms, error) {
	t, ok := gradeTerms[g]
	if !ok {
		return GradeTerms{}, fmt.Errorf("unknown grade %q", g)
	}
	return t, nil
}

// ServiceFee is the borrower's fee at disbursement: round(principal × fee rate).
func ServiceFee(g Grade, principal decimal.Decimal) (decimal.Decimal, error) {
	t, err := TermsFor(g)
	if err != nil {
		return decimal.Zero, err
	}
	return Round(principal.Mul(t.ServiceFeeRate)), nil
}

// RiskReserveRate is the borrower's contribution to the risk reserve.
var RiskReserveRate = decimal.RequireFromString("0.02")

// RiskReserve is round(principal × 2 %).
func RiskReserve(principal decimal.Decimal) decimal.Decimal {
	return Round(principal.Mul(RiskReserveRate))
}

// Suitable reports whether an investor of level may bid on a grade
// (投资者适当性): A needs C1 or above, B C2, C C3, D C4, E C5.
func Suitable(level RiskLevel, g Grade) bool {
	t, ok := gradeTerms[g]
	if !ok || len(level) != 2 || level[0] != 'C' || level[1] < '1' || level[1] > '5' {
		return false
	}
	return level >= t.MinRiskLevel
}

// RiskLevelFromAnswers scores the 10-question risk assessment: each answer
// 0–4, bands of the sum 0–8 C1, 9–16 C2, 17–24 C3, 25–32 C4, 33–40 C5.
func RiskLevelFromAnswers(answers []int) (RiskLevel, error) {
	if len(answers) != 10 {
		return "", errors.New("the assessment has 10 answers")
	}
	sum := 0
	for _, a := range answers {
		if a < 0 || a > 4 {
			return "", errors.New("each answer is 0 to 4")
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

// Withdrawal rules (DOMAIN.md "Withdrawal fee", "Withdrawal route").
var (
	WithdrawalFlatFee     = decimal.RequireFromString("3.00")
	WithdrawalFlatFeeUpTo = decimal.RequireFromString("1000.00")
	WithdrawalPercentFee  = decimal.RequireFromString("0.003")
	SuperEBankLimit       = decimal.RequireFromString("50000.00")
)

// ErrOutsideLargeValueWindow is returned by WithdrawalRoute outside the large-value hours.
var ErrOutsideLargeValueWindow = errors.New("withdrawals over 50,000.00 go by the large-value system, open on workdays from 23:30 the day before to 17:15")

// Route is how the bank pays a withdrawal out.
type Route string

const (
	RouteSuperEBank Route = "super_ebank"
	RouteLargeValue Route = "large_value"
)

// WithdrawalFee: the first withdrawal of a calendar month is free; then 3.00
// up to 1,000.00 and round(0.3 %) above.
func WithdrawalFee(amount decimal.Decimal, freeUsedThisMonth bool) decimal.Decimal {
	if !freeUsedThisMonth {
		return decimal.Zero
	}
	if amount.LessThanOrEqual(WithdrawalFlatFeeUpTo) {
		return WithdrawalFlatFee
	}
	return Round(amount.Mul(WithdrawalPercentFee))
}

// WithdrawalRoute picks the payment route at time at (any zone; judged in
// Asia/Shanghai). Up to 50,000.00: super e-banking at any time. Above: the
// large-value system, open on a workday from 23:30 of the previous day to
// 17:15 (both inclusive); outside it, ErrOutsideLargeValueWindow.
func WithdrawalRoute(amount decimal.Decimal, at time.Time, isWorkday func(time.Time) bool) (Route, error) {
	if amount.LessThanOrEqual(SuperEBankLimit) {
		return RouteSuperEBank, nil
	}
	t := at.In(shanghai)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	minute := t.Hour()*60 + t.Minute()
	switch {
	case minute >= 23*60+30:
		// The window of the next day opens at 23:30 tonight.
		if isWorkday(day.AddDate(0, 0, 1)) {
			return RouteLargeValue, nil
		}
	case minute <= 17*60+15 && !(minute == 17*60+15 && (t.Second() > 0 || t.Nanosecond() > 0)):
		if isWorkday(day) {
			return RouteLargeValue, nil
		}
	}
	return "", ErrOutsideLargeValueWindow
}

// DefaultWorkday is Monday to Friday; public holidays and make-up working
// days are not modelled.
func DefaultWorkday(d time.Time) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// ClaimShares splits every installment of a schedule among the claims: each
// installment's principal and interest by Split (two separate splits), except
// that in the last installment each claim's principal is what remains of it.
// Splitting each installment on its own can leave a claim a cent short of
// its principal over the life of the loan (the cents land with another
// claim); taking the remainder last — as the schedule's own last period takes
// the remaining balance — returns every investor exactly what they lent, and
// the last installment's shares still sum to its principal because the claims
// sum to the loan amount. Requires sum(claims) = sum(principals).
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
