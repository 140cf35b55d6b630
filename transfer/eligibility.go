package transfer

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// When a claim may be offered (docs/rules.md "Debt transfer"): the loan is
// repaying with nothing overdue, the claim came from a bid or a purchase (a
// compensator's claim is no holding and is never offered), its holder holds
// it, it is not listed already, and the next due date is more than 5 days
// away (还款日前5天不可转让). Decided: a claim part of whose open
// installments has been paid or compensated is not offered either, so that
// every open installment goes whole to whoever holds the claim; on a loan
// repaying with nothing overdue that happens only on a due date's partial
// auto-debit, inside the blackout anyway.

// BlackoutDays: no listing in the 5 days before a due date.
const BlackoutDays = 5

// Why a claim cannot be offered: the detail of transfer_not_allowed, written
// for the investor (the API shows these texts and no other).
const (
	ReasonNotRepaying = "the loan is not being repaid: only a claim on a loan in repayment can be offered"
	ReasonOverdue     = "an installment of the loan is overdue"
	ReasonBlackout    = "the next due date is 5 days away or less: no transfer in the 5 days before a due date (还款日前5天不可转让)"
	ReasonListed      = "the claim is listed already"
	ReasonNotHeld     = "the claim is no longer yours: it was transferred"
	ReasonTouched     = "part of the claim's open installments was paid or compensated"
	ReasonNothingLeft = "nothing of the claim is left to sell"
)

// Reasons is every reason above.
var Reasons = []string{ReasonNotRepaying, ReasonOverdue, ReasonBlackout, ReasonListed, ReasonNotHeld, ReasonTouched, ReasonNothingLeft}

// LapseOn is the blackout's first day before a due date: a listing lapses at
// its start, and no claim of the loan may be offered from then until the due
// date.
func LapseOn(due time.Time) time.Time { return due.AddDate(0, 0, -BlackoutDays) }

// OpenOn reports whether a listing whose next due date is due is open on day.
func OpenOn(due, day time.Time) bool { return day.Before(LapseOn(due)) }

// Offer is what the rules judge an offer on.
type Offer struct {
	LoanStatus lending.Status
	Claim      Claim
	Held       bool // the seller holds the claim now
	Listed     bool // an open listing of it exists
	Discount   decimal.Decimal
	Day        time.Time
}

// Check judges the offer: nil, or a refusal (validation_failed for the
// discount, transfer_not_allowed with its reason).
func (o Offer) Check() error {
	if err := CheckDiscount(o.Discount); err != nil {
		return err
	}
	switch {
	case !o.Held:
		return notAllowed(ReasonNotHeld)
	case o.LoanStatus == lending.StatusOverdue:
		return notAllowed(ReasonOverdue)
	case o.LoanStatus != lending.StatusRepaying:
		return notAllowed(ReasonNotRepaying)
	case o.Claim.Open == 0 || o.Claim.Remaining.Sign() <= 0:
		return notAllowed(ReasonNothingLeft)
	case !o.Claim.Untouched:
		return notAllowed(ReasonTouched)
	case !OpenOn(o.Claim.Due, o.Day):
		return notAllowed(ReasonBlackout)
	case o.Listed:
		return notAllowed(ReasonListed)
	}
	return nil
}

// CheckDiscount: a discount is 0 to 0.05, in at most 4 decimal places (a
// hundredth of a per cent).
func CheckDiscount(d decimal.Decimal) error {
	if d.Sign() < 0 || d.GreaterThan(MaxDiscount) || !d.Equal(d.Truncate(4)) {
		return errs.Invalid("discount_rate", "must be 0.00 to 0.05, in at most 4 decimal places")
	}
	return nil
}

func notAllowed(reason string) error { return errs.New(errs.TransferNotAllowed, "%s", reason) }

// IsReason reports whether detail is one of the reasons written for the
// investor, which the API may show as it is.
func IsReason(detail string) bool {
	for _, r := range Reasons {
		if r == detail {
			return true
		}
	}
	return false
}
