package claims

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// Holdings: who holds a claim (docs/transfer.md "Holdings"). A claim keeps
// its identity, its bid ("bid:<id>", Claim.Key), while who holds it changes:
// each holder's time with it is a holding, the bidder's from the
// disbursement and each buyer's from its purchase (debt transfer, package
// transfer). The claim's shares of the open installments name the holder
// (installment_shares.investor_id) and its holding, so every later payment
// of them — the current installment whole, penalty, a compensation, a
// write-off's loss and so a recovery — goes to whoever holds it on that day
// by the rules as they are, and what a holding received is the sum of the
// shares paid while it held them.

// Holding sources.
const (
	FromBid      = "bid"
	FromTransfer = "transfer"
)

// Holding statuses: held, or transferred (sold; held_to is the sale's day).
const (
	Held        = "held"
	Transferred = "transferred"
)

// Holding is one holder's time with one claim.
type Holding struct {
	ID        int64
	LoanID    int64
	BidID     int64
	HolderID  int64
	Source    string
	Principal decimal.Decimal // the claim's remaining principal when the holder took it
	Cost      decimal.Decimal // what the holder paid: the bid, or the price
	HeldFrom  time.Time
	HeldTo    *time.Time
	Status    string
}

// HoldingFrom converts a row.
func HoldingFrom(h dbq.Holding) Holding {
	return Holding{ID: h.ID, LoanID: h.LoanID, BidID: h.BidID, HolderID: h.HolderID, Source: h.Source, Principal: h.Principal,
		Cost: h.Cost, HeldFrom: h.HeldFrom, HeldTo: h.HeldTo, Status: h.Status}
}

// OpenHoldings opens the bidders' holdings of a loan disbursed on day, once
// its shares are written, in the disbursement's transaction.
func OpenHoldings(ctx context.Context, q *dbq.Queries, loanID int64, day time.Time) error {
	if err := q.HoldingsOpen(ctx, dbq.HoldingsOpenParams{LoanID: loanID, HeldFrom: day}); err != nil {
		return err
	}
	return q.ShareHoldingsSet(ctx, loanID)
}

// HandOver ends the seller's holding on day and starts the buyer's, who paid
// cost for principal, and hands the buyer the claim's open installments. It
// runs in the sale's transaction; the seller's holding must be held (locked
// by the caller).
func HandOver(ctx context.Context, q *dbq.Queries, seller Holding, buyerID int64, principal, cost decimal.Decimal, day time.Time) (Holding, error) {
	if err := q.HoldingEnd(ctx, dbq.HoldingEndParams{ID: seller.ID, HeldTo: &day}); err != nil {
		return Holding{}, err
	}
	row, err := q.HoldingInsert(ctx, dbq.HoldingInsertParams{LoanID: seller.LoanID, BidID: seller.BidID, HolderID: buyerID,
		Principal: principal, Cost: cost, HeldFrom: day})
	if err != nil {
		return Holding{}, err
	}
	err = q.SharesHandOver(ctx, dbq.SharesHandOverParams{LoanID: seller.LoanID, BidID: seller.BidID, BuyerID: buyerID, HoldingID: &row.ID})
	return HoldingFrom(row), err
}

// HoldingView is one of an investor's claims as GET /v1/me/holdings shows
// it: a holding (ID set), or a bid not yet disbursed (ID 0).
type HoldingView struct {
	ID                                  int64
	LoanID, BidID                       int64
	Source                              string
	Principal                           decimal.Decimal
	ReceivedPrincipal, ReceivedInterest decimal.Decimal
	PendingPrincipal, PendingInterest   decimal.Decimal
	// Status: the bid's (pending, frozen) before the disbursement; the
	// loan's while held (repaying, overdue, repaid, written_off);
	// transferred once sold.
	Status string
}

// HoldingsOf lists an investor's claims: bids not yet disbursed first, then
// every holding, held or transferred, newest claim first.
func HoldingsOf(ctx context.Context, q *dbq.Queries, investorID int64) ([]HoldingView, error) {
	bids, err := q.BidsUndisbursedByInvestor(ctx, investorID)
	if err != nil {
		return nil, err
	}
	rows, err := q.HoldingsByHolder(ctx, investorID)
	if err != nil {
		return nil, err
	}
	out := make([]HoldingView, 0, len(bids)+len(rows))
	for _, b := range bids {
		out = append(out, HoldingView{LoanID: b.LoanID, BidID: b.ID, Source: FromBid, Principal: b.Amount,
			ReceivedPrincipal: decimal.Zero, ReceivedInterest: decimal.Zero, PendingPrincipal: decimal.Zero,
			PendingInterest: decimal.Zero, Status: string(b.Status)})
	}
	for _, h := range rows {
		out = append(out, HoldingView{ID: h.HoldingID, LoanID: h.LoanID, BidID: h.BidID, Source: h.Source, Principal: h.Principal,
			ReceivedPrincipal: h.ReceivedPrincipal, ReceivedInterest: h.ReceivedInterest, PendingPrincipal: h.PendingPrincipal,
			PendingInterest: h.PendingInterest, Status: HolderStatus(h.HoldingStatus, h.LoanStatus)})
	}
	return out, nil
}

// HolderStatus is what a holding's status reads as: transferred once sold,
// else its loan's.
func HolderStatus(holding string, loan lending.Status) string {
	if holding == Transferred {
		return Transferred
	}
	return string(loan)
}
