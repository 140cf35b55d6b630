package transfer

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// A claim's value and price on the day of sale (docs/rules.md "Debt
// transfer"):
//
//	R     the claim's remaining principal: its shares' principal not yet received;
//	a     the current period's interest accrued by days:
//	      round(I × days since the period began / days in the period), where I is
//	      the claim's interest share of the current installment and the period
//	      runs from the last due date (the disbursement, for the first) to its due
//	      date (money.AccruedInterest, as an early repayment accrues);
//	price round((R + a) × (1 − discount)), the discount the seller's, 0 to 0.05.
//
// The current installment is the oldest open one. Decided: when the borrower
// has paid it ahead of its period (an installment paid early by hand), the
// current period has not begun, a is 0: the seller was paid that period's
// interest already.

// MaxDiscount is the largest discount a seller may set.
var MaxDiscount = decimal.RequireFromString("0.05")

// Share is one installment's share of a claim, as the claim's value reads it.
type Share struct {
	No                                       int32
	DueDate                                  time.Time
	Status                                   lending.InstallmentStatus
	Principal, Interest                      decimal.Decimal
	RecvPrincipal, RecvInterest, RecvPenalty decimal.Decimal
	Compensated                              decimal.Decimal // of the whole installment, by a compensator
}

func (s Share) open() bool {
	return s.Status == lending.InstallmentPending || s.Status == lending.InstallmentOverdue
}

// Claim is what a claim's value is made of.
type Claim struct {
	Remaining   decimal.Decimal // R
	Interest    decimal.Decimal // I, the claim's share of the current installment's interest
	PeriodStart time.Time       // the last due date, or the disbursement
	Due         time.Time       // the current installment's due date: the next due date
	CurrentNo   int32
	Open        int // installments still open
	// Untouched: nothing of the open installments has been paid, compensated
	// or gone overdue, so the whole of each goes to whoever holds the claim.
	Untouched bool
}

// ClaimOf reads a claim from its shares of every installment of the loan,
// in installment order, and the loan's disbursement date.
func ClaimOf(shares []Share, disbursedOn time.Time) Claim {
	c := Claim{Remaining: decimal.Zero, Interest: decimal.Zero, PeriodStart: disbursedOn, Untouched: true}
	prevDue := disbursedOn
	for _, s := range shares {
		if !s.open() {
			prevDue = s.DueDate
			continue
		}
		if c.Open == 0 {
			c.CurrentNo, c.Due, c.PeriodStart = s.No, s.DueDate, prevDue
			c.Interest = s.Interest.Sub(s.RecvInterest)
		}
		c.Open++
		c.Remaining = c.Remaining.Add(s.Principal.Sub(s.RecvPrincipal))
		if s.Status == lending.InstallmentOverdue || s.Compensated.Sign() > 0 ||
			s.RecvPrincipal.Sign() > 0 || s.RecvInterest.Sign() > 0 || s.RecvPenalty.Sign() > 0 {
			c.Untouched = false
		}
	}
	return c
}

// Quote is a claim priced on a day for a discount.
type Quote struct {
	Day         time.Time
	Principal   decimal.Decimal // R
	Accrued     decimal.Decimal // a
	Price       decimal.Decimal // what the buyer pays
	Fee         decimal.Decimal // the seller's fee, out of the price
	Proceeds    decimal.Decimal // what the seller receives: price − fee
	HoldingDays int             // the seller's, counting the first day
}

// Accrued is a: the current period's interest accrued by day.
func (c Claim) Accrued(day time.Time) decimal.Decimal {
	return money.AccruedInterest(c.Interest, c.PeriodStart, c.Due, day)
}

// Price is round((R + a) × (1 − discount)), half-up to the fen.
func Price(principal, accrued, discount decimal.Decimal) decimal.Decimal {
	return money.Round(principal.Add(accrued).Mul(decimal.NewFromInt(1).Sub(discount)))
}

// Priced is the claim's quote on day for discount, sold by a holder who has
// held it since heldFrom.
func (c Claim) Priced(discount decimal.Decimal, heldFrom, day time.Time) Quote {
	q := Quote{Day: day, Principal: c.Remaining, Accrued: c.Accrued(day), HoldingDays: HoldingDays(heldFrom, day)}
	q.Price = Price(q.Principal, q.Accrued, discount)
	q.Fee = Fee(q.Principal, q.HoldingDays)
	q.Proceeds = q.Price.Sub(q.Fee)
	return q
}
