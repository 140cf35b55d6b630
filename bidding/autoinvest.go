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
			if _, err := s.place(ctx, r.UserID, loan.ID, amount, today, true, autoInvestKey(loan.ID), nil); err != nil {
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
