package bidding

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
)

// AutoInvest offers each newly opened listing to the investors' auto-invest
// rules (自动投标), in queue order, before it is left to bids by hand. A rule
// bids min(amount per loan, what remains), whole yuan, only while the
// investor keeps keep_available untouched; every bid goes through Place's
// rules (suitability, newbie, the guarded increment), and a rule that has
// invested goes to the back of the queue. Each listing is offered once; the
// worker runs this every few seconds.
//
// A rule's bid on a listing carries the key autoInvestKey: offered again (a
// worker died before marking the listing offered, or two workers offered it
// at once), the rule finds its bid and places none beside it.
func (s *Service) AutoInvest(ctx context.Context, today time.Time) (int, error) {
	loans, err := s.q.LoanListAwaitingAutoInvest(ctx)
	if err != nil {
		return 0, err
	}
	placed := 0
	for _, loan := range loans {
		if loan.Grade == nil || loan.AnnualRate == nil || loan.ListingExpiresOn == nil || !today.Before(*loan.ListingExpiresOn) {
			continue
		}
		rules, err := s.q.AutoInvestRuleListFor(ctx, dbq.AutoInvestRuleListForParams{Rate: *loan.AnnualRate, Term: loan.TermMonths, Grade: *loan.Grade})
		if err != nil {
			return placed, err
		}
		remaining := loan.Amount.Sub(loan.Raised)
		for _, r := range rules {
			if remaining.Sign() <= 0 {
				break
			}
			amount := decimal.Min(r.AmountPerLoan, remaining)
			if !amount.Equal(remaining) {
				amount = amount.Truncate(0) // bids are whole yuan unless they take the rest
			}
			sp, err := s.q.UserSpendable(ctx, r.UserID)
			if err != nil {
				return placed, err
			}
			// What is in flight (a withdrawal, a pending bid) is spent already.
			if sp.Available.Sub(sp.InFlight).Sub(amount).LessThan(r.KeepAvailable) {
				continue
			}
			if _, err := s.place(ctx, r.UserID, loan.ID, amount, today, true, autoInvestKey(loan.ID), nil, 0); err != nil {
				s.log.Info("auto-invest bid not placed", "loan", loan.ID, "investor", r.UserID, "reason", err)
				continue
			}
			placed++
			remaining = remaining.Sub(amount)
			if err := s.q.AutoInvestRuleRequeue(ctx, r.UserID); err != nil {
				return placed, err
			}
		}
		if err := s.q.LoanSetAutoInvested(ctx, loan.ID); err != nil {
			return placed, err
		}
	}
	return placed, nil
}

// autoInvestKey is the Idempotency-Key of an auto-invest bid on a listing,
// one a listing for each investor. It is not ASCII, so no key a client sends
// (printable ASCII, api validKey) can be it.
func autoInvestKey(loanID int64) string { return "自动投标:" + itoa(loanID) }

// Rule is an investor's auto-invest rule: bid AmountPerLoan (whole yuan, at
// least the minimum bid) on each listing of at least MinAnnualRate, at most
// MaxTermMonths and MaxGrade, while KeepAvailable stays untouched. Enabled
// false keeps the rule and bids nothing.
type Rule struct {
	Enabled       bool
	AmountPerLoan decimal.Decimal
	MinAnnualRate decimal.Decimal
	MaxTermMonths int
	MaxGrade      string
	KeepAvailable decimal.Decimal
}

// SetAutoInvest replaces the investor's rule (its fields checked already:
// the API refuses any that is wrong) and answers it as stored. Its bids
// follow every rule a bid by hand does.
func (s *Service) SetAutoInvest(ctx context.Context, investorID int64, r Rule) (Rule, error) {
	row, err := s.q.AutoInvestRuleUpsert(ctx, dbq.AutoInvestRuleUpsertParams{
		UserID: investorID, Enabled: r.Enabled, AmountPerLoan: r.AmountPerLoan, MinAnnualRate: r.MinAnnualRate,
		MaxTermMonths: int32(r.MaxTermMonths), MaxGrade: r.MaxGrade, KeepAvailable: r.KeepAvailable,
	})
	return Rule{Enabled: row.Enabled, AmountPerLoan: row.AmountPerLoan, MinAnnualRate: row.MinAnnualRate,
		MaxTermMonths: int(row.MaxTermMonths), MaxGrade: row.MaxGrade, KeepAvailable: row.KeepAvailable}, err
}
