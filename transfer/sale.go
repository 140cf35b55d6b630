package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// A sale's money (docs/rules.md "Debt transfer"): one bank transfer pair,
// buyer → seller price − fee and buyer → fee account fee, under a request
// number from the purchase's identity (the listing and the buyer's attempt),
// mirrored by one ledger entry of type transfer; then the claim changes
// hands in the same transaction.

// RequestNo is the number of the bank batch of a listing's attempt-th
// purchase: transfer-5-buy-1. A purchase refused (nothing moved) leaves the
// listing open to the next buyer, whose attempt is the next number.
func RequestNo(transferID int64, attempt int) string {
	return bank.RequestNo("transfer", transferID, "buy", attempt)
}

// Counterparts of a sale's postings, as the fund log labels them
// (ledger/counterpart.go).
const (
	CounterpartBuyer  = "claim buyer"
	CounterpartSeller = "claim seller"
)

// Purchase is a buyer's purchase as the loan's workflow carries it out.
type Purchase struct {
	TransferID int64
	Attempt    int
	BuyerID    int64
	// Price is the price the buyer was quoted on Day, the purchase's
	// business date, on which it is priced again: a claim whose price has
	// changed since is not sold (transfer_not_open), so nobody pays what
	// they were not shown.
	Price decimal.Decimal
	Day   time.Time
}

// Sale is a purchase planned before the bank is asked; it is stored with the
// bank request, so a retried step applies exactly what was sent.
type Sale struct {
	TransferID      int64
	Attempt         int
	LoanID, BidID   int64
	SellerID        int64
	BuyerID         int64
	SellerHoldingID int64
	Quote           Quote
	Entry           ledger.Entry
}

// PlanSale prices the purchase on its day and plans the bank's pair, or
// answers why it cannot be made (transfer_not_open, insufficient_balance),
// with nothing to send. read is where the buyer's balance is read.
func PlanSale(ctx context.Context, q *dbq.Queries, read ledger.DBTX, p Purchase) (bank.BatchRequest, Sale, *errs.Error, error) {
	no := func(code, format string, args ...any) (bank.BatchRequest, Sale, *errs.Error, error) {
		return bank.BatchRequest{}, Sale{}, errs.New(code, format, args...), nil
	}
	t, err := q.TransferGet(ctx, p.TransferID)
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	if Status(t.Status) != Buying || int(t.Attempt) != p.Attempt {
		return no(errs.TransferNotOpen, "transfer %d is %s (attempt %d), not being bought by attempt %d", t.ID, t.Status, t.Attempt, p.Attempt)
	}
	loan, err := q.LoanGet(ctx, t.LoanID)
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	h, err := q.HoldingGet(ctx, t.HoldingID)
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	claim, err := claimOf(ctx, q, t.BidID, loan)
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	switch {
	case loan.Status != lending.StatusRepaying:
		return no(errs.TransferNotOpen, "the loan is %s", loan.Status)
	case h.Status != claims.Held || !claim.Untouched || claim.Open == 0:
		return no(errs.TransferNotOpen, "the claim is no longer as listed")
	case !OpenOn(claim.Due, p.Day):
		return no(errs.TransferNotOpen, "the listing lapsed on %s", LapseOn(claim.Due).Format(time.DateOnly))
	}
	quote := claim.Priced(t.DiscountRate, h.HeldFrom, p.Day)
	if !quote.Price.Equal(p.Price) {
		return no(errs.TransferNotOpen, "the price on %s is %s, not the %s quoted", p.Day.Format(time.DateOnly), quote.Price, p.Price)
	}
	sum, err := ledger.AccountSummary(ctx, read, p.BuyerID)
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	if sum.Available.LessThan(quote.Price) {
		return no(errs.InsufficientBalance, "available %s does not cover the price %s", sum.Available.StringFixed(2), quote.Price.StringFixed(2))
	}
	accts, err := q.UserAccountNos(ctx, []int64{t.SellerID, p.BuyerID})
	if err != nil {
		return bank.BatchRequest{}, Sale{}, nil, err
	}
	acct := map[int64]string{}
	for _, a := range accts {
		if a.CustodyAccountNo != nil {
			acct[a.ID] = *a.CustodyAccountNo
		}
	}
	if acct[t.SellerID] == "" || acct[p.BuyerID] == "" {
		return no(errs.NoCustodyAccount, "the seller or the buyer has no custody account")
	}
	reqNo := RequestNo(t.ID, p.Attempt)
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: ledger.TypeTransfer}
	sale := Sale{TransferID: t.ID, Attempt: p.Attempt, LoanID: t.LoanID, BidID: t.BidID, SellerID: t.SellerID, BuyerID: p.BuyerID,
		SellerHoldingID: h.ID, Quote: quote}
	sale.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeTransfer, Ref: fmt.Sprintf("loan:%d", t.LoanID),
		Postings: []ledger.Posting{{Account: ledger.UserAvailable(p.BuyerID), Amount: quote.Price.Neg(), Counterpart: CounterpartSeller}}}
	if quote.Proceeds.Sign() > 0 {
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: acct[p.BuyerID], To: acct[t.SellerID], Amount: quote.Proceeds})
		sale.Entry.Postings = append(sale.Entry.Postings,
			ledger.Posting{Account: ledger.UserAvailable(t.SellerID), Amount: quote.Proceeds, Counterpart: CounterpartBuyer})
	}
	if quote.Fee.Sign() > 0 {
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: acct[p.BuyerID], To: bank.AccountFee, Amount: quote.Fee})
		sale.Entry.Postings = append(sale.Entry.Postings,
			ledger.Posting{Account: ledger.PlatformFee, Amount: quote.Fee, Counterpart: fmt.Sprintf("user:%d", t.SellerID)})
	}
	return batch, sale, nil, nil
}

// BookSale books a sale the bank has made, in one transaction with the
// step's history: the ledger entry on the bank's day, the claim handed to
// the buyer (claims.HandOver), the listing sold with its figures, the
// purchase done, and the notices to both (at: when they reach them). It
// answers the buyer's new holding.
func BookSale(ctx context.Context, q *dbq.Queries, tx pgx.Tx, s Sale, bankDay, at time.Time) (claims.Holding, error) {
	s.Entry.BusinessDate = bankDay
	if _, err := ledger.Post(ctx, tx, s.Entry); err != nil {
		return claims.Holding{}, err
	}
	seller, err := q.HoldingGetForUpdate(ctx, s.SellerHoldingID)
	if err != nil {
		return claims.Holding{}, err
	}
	if seller.Status != claims.Held {
		return claims.Holding{}, fmt.Errorf("transfer %d: the seller's holding %d is %s", s.TransferID, seller.ID, seller.Status)
	}
	day := s.Quote.Day
	bought, err := claims.HandOver(ctx, q, claims.HoldingFrom(seller), s.BuyerID, s.Quote.Principal, s.Quote.Price, day)
	if err != nil {
		return claims.Holding{}, err
	}
	// The seller's coupon on the claim ends with the sale, the current
	// installment's bonus included: never paid to a buyer (docs/coupons.md).
	if err := coupons.Sold(ctx, q, seller.BidID); err != nil {
		return claims.Holding{}, err
	}
	if err := q.TransferSell(ctx, dbq.TransferSellParams{ID: s.TransferID, Attempt: int32(s.Attempt), BuyerID: &s.BuyerID,
		BuyerHoldingID: &bought.ID, Principal: &s.Quote.Principal, AccruedInterest: &s.Quote.Accrued, Price: &s.Quote.Price,
		Fee: &s.Quote.Fee, ClosedOn: &day}); err != nil {
		return claims.Holding{}, err
	}
	if err := q.TransferPurchaseFinish(ctx, dbq.TransferPurchaseFinishParams{TransferID: s.TransferID, Attempt: int32(s.Attempt),
		Status: "sold"}); err != nil {
		return claims.Holding{}, err
	}
	t, err := q.TransferGet(ctx, s.TransferID)
	if err != nil {
		return claims.Holding{}, err
	}
	if err := event(ctx, q, t, Sold, day, &s, bought.ID); err != nil {
		return claims.Holding{}, err
	}
	proceeds, price := s.Quote.Proceeds, s.Quote.Price
	for _, n := range []contact.Notice{{
		UserID: s.SellerID, Kind: lending.NoticeTransferSold, LoanID: s.LoanID, Amount: &proceeds, On: day, At: at,
		Dedupe: fmt.Sprintf("transfer-%d-sold", s.TransferID),
		Message: fmt.Sprintf("Loan %d: your claim (transfer %d) was sold for %s; the fee was %s, so %s reached your account.",
			s.LoanID, s.TransferID, price.StringFixed(2), s.Quote.Fee.StringFixed(2), proceeds.StringFixed(2)),
	}, {
		UserID: s.BuyerID, Kind: lending.NoticeTransferBought, LoanID: s.LoanID, Amount: &price, On: day, At: at,
		Dedupe: fmt.Sprintf("transfer-%d-bought", s.TransferID),
		Message: fmt.Sprintf("Loan %d: you bought a claim (transfer %d) for %s: %s of principal; every later installment of it is yours.",
			s.LoanID, s.TransferID, price.StringFixed(2), s.Quote.Principal.StringFixed(2)),
	}} {
		if err := contact.Write(ctx, q, n); err != nil {
			return claims.Holding{}, err
		}
	}
	return bought, nil
}

// Unwin ends a purchase refused with nothing moved: the listing is open to
// buyers again (unless it lapsed meanwhile) and the purchase answers code.
// Called again, it changes nothing.
func Unwin(ctx context.Context, q *dbq.Queries, transferID int64, attempt int, code string) error {
	if err := q.TransferRelist(ctx, dbq.TransferRelistParams{ID: transferID, Attempt: int32(attempt)}); err != nil {
		return err
	}
	return q.TransferPurchaseFinish(ctx, dbq.TransferPurchaseFinishParams{TransferID: transferID, Attempt: int32(attempt),
		Status: "refused", Code: &code})
}

// errNoSuchTransfer is the not_found of a listing the caller may not see.
var errNoSuchTransfer = errs.New(errs.NotFound, "no such transfer")

func notFound(err error) error {
	if err == nil || errors.Is(err, db.ErrNotFound) {
		return errNoSuchTransfer
	}
	return err
}
