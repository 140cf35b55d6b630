// Package claims is who is owed a loan's installments and how they are paid
// (docs/rules.md "Claim holders"): at first the investors, one claim per bid;
// after an M3 compensation the guarantor or the risk reserve holds the part
// it paid. Its rules, each in a file named after it: the waterfall a payment
// follows (waterfall.go), paying the holders (pay.go), penalty and payoff
// interest accrued on the claims (accrual.go), a compensator taking over what
// it paid (compensation.go), and the losses a write-off closes (writeoff.go).
// The repayment, compensation and write-off activities call them; they are
// pure but for loading and saving a loan's open installments (store.go).
package claims

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Holders of a claim.
const (
	Investor  = "investor"
	Guarantor = "guarantor"
	Reserve   = "reserve"
)

// Claim is one holder's claim on one installment: what it is owed (planned
// shares for an investor, what it paid for a compensator; Penalty is its
// share of the penalty accrued so far) and what it has received.
type Claim struct {
	Holder  string
	BidID   int64 // investors
	UserID  int64 // investors and guarantors; 0 for the reserve
	Weight  decimal.Decimal
	Account string // where the bank pays it: a custody account, or the risk-reserve account

	Principal, Interest, Penalty             decimal.Decimal
	RecvPrincipal, RecvInterest, RecvPenalty decimal.Decimal
}

// Key names the holder across installments: bid:7, guarantor:12, reserve.
func (c Claim) Key() string {
	switch c.Holder {
	case Investor:
		return fmt.Sprintf("bid:%d", c.BidID)
	case Guarantor:
		return fmt.Sprintf("guarantor:%d", c.UserID)
	}
	return Reserve
}

// Unpaid is what the holder is still owed of the claim, by part.
func (c Claim) Unpaid() money.Due {
	return money.Due{Penalty: c.Penalty.Sub(c.RecvPenalty), Interest: c.Interest.Sub(c.RecvInterest), Principal: c.Principal.Sub(c.RecvPrincipal)}
}

// LedgerAccount is the account of the platform's books the claim is paid into.
func (c Claim) LedgerAccount() string {
	if c.Holder == Reserve {
		return ledger.PlatformRiskReserve
	}
	return ledger.UserAvailable(c.UserID)
}

// Installment is one open installment with its claims, as the money rules
// see it; its methods are pure.
type Installment struct {
	No      int32
	DueDate time.Time
	Status  lending.InstallmentStatus

	Principal, Interest                      decimal.Decimal
	PaidPrincipal, PaidInterest, PaidPenalty decimal.Decimal
	Penalty                                  decimal.Decimal // accrued through PenaltyThrough
	PenaltyThrough                           time.Time
	Compensated                              decimal.Decimal
	PaidOn                                   *time.Time
	Claims                                   []Claim

	// loaded is the installment as Load read it, so Save writes only what a
	// plan changed (nil: write it all).
	loaded *Installment
}

// UnpaidBase is the base of penalty interest: the installment's unpaid
// principal + interest (docs/rules.md "Penalty interest").
func (in *Installment) UnpaidBase() decimal.Decimal {
	return in.Principal.Sub(in.PaidPrincipal).Add(in.Interest).Sub(in.PaidInterest)
}

// Due is what the borrower still owes on the installment, by part.
func (in *Installment) Due() money.Due {
	return money.Due{Penalty: in.Penalty.Sub(in.PaidPenalty), Interest: in.Interest.Sub(in.PaidInterest), Principal: in.Principal.Sub(in.PaidPrincipal)}
}

// Closed reports whether the borrower owes nothing more on the installment.
func (in *Installment) Closed() bool { return in.Due().Total().Sign() <= 0 }

// Owed is what the claims holders admits are still owed on insts.
func Owed(insts []*Installment, admits func(Claim) bool) decimal.Decimal {
	owed := decimal.Zero
	for _, in := range insts {
		for _, c := range in.Claims {
			if admits(c) {
				owed = owed.Add(c.Unpaid().Total())
			}
		}
	}
	return owed
}

// All admits every claim; Investors only the investors'.
func All(Claim) bool         { return true }
func Investors(c Claim) bool { return c.Holder == Investor }
