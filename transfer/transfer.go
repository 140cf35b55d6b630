// Package transfer is debt transfer (债权转让, docs/transfer.md): a holder
// sells a whole claim (one bid's remaining principal and every later
// installment's shares) to another investor before maturity.
//
// Its rules, each in a file named after it (docs/rules.md "Debt transfer"):
// what a claim is worth on a day and its price after the seller's discount
// (value.go), the seller's fee by holding days (fee.go), when a claim may be
// offered and when a listing lapses by itself (eligibility.go, lapse.go),
// and who may buy (buyer.go). The service (service.go) is what the API
// calls: it lists, browses, buys and cancels, settling the winner of a
// listing in PostgreSQL and sending only the winner's purchase to the loan's
// workflow, which carries out every money step of the loan one at a time, so
// a purchase and a repayment of the same loan never interleave. The
// activities book a sale (book.go) and lapse listings (lapse.go) in the
// transactions of the loan's steps.
package transfer

import (
	"time"

	"github.com/shopspring/decimal"
)

// Status is a listing's status (docs/api.md "Transfers").
type Status string

const (
	// Listed: open to buyers until the day before ExpiresOn.
	Listed Status = "listed"
	// Buying: a buyer won the listing and its purchase is with the loan's
	// workflow; it ends sold, or listed again with nothing moved.
	Buying Status = "buying"
	Sold   Status = "sold"
	// Lapsed: closed by itself, unsold (the blackout before a due date, the
	// loan no longer repaying); it moved nothing.
	Lapsed    Status = "lapsed"
	Cancelled Status = "cancelled"
)

// Holding sources (docs/api.md: holdings' source).
const (
	SourceBid      = "bid"
	SourceTransfer = "transfer"
)

// Listing is one transfer listing, with its figures: as priced on the
// business date asked while it is open, as sold once sold.
type Listing struct {
	ID           int64
	LoanID       int64
	BidID        int64
	HoldingID    int64 // the seller's
	SellerID     int64
	Discount     decimal.Decimal
	Status       Status
	ListedOn     time.Time
	ExpiresOn    time.Time
	Grade        string
	AnnualRate   decimal.Decimal
	NextDueDate  time.Time
	Installments int // remaining installments
	Quote        Quote
	Priced       bool // Quote holds figures: open (priced on its day) or sold
	// Set once sold.
	BuyerID        int64
	BuyerHoldingID int64
	ClosedOn       *time.Time
	ClosedAt       *time.Time
	CreatedAt      time.Time
	Note           string

	parties Parties
}
