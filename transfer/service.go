package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
)

// Service is debt transfer as the API calls it (docs/transfer.md).
//
// Who wins a listing is settled in PostgreSQL: a buyer's purchase first takes
// the listing with one guarded update (listed → buying, TransferWin), so of
// any number of buyers at once exactly one goes on and the others are
// refused transfer_not_open at once, their money untouched. Only the winner's
// purchase is sent to the loan's workflow, which carries it out in its turn
// with the loan's repayments and dated steps, judged against the loan as it
// stands then; refused there (the balance short, the listing lapsed), it
// moved nothing and the listing is open again.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	loans Loans
	today func(context.Context) (time.Time, error)
	log   *slog.Logger
}

// Kind is a transfer request's kind, as the loan's workflow takes it.
type Kind string

const (
	KindOffer  Kind = "offer"
	KindBuy    Kind = "buy"
	KindCancel Kind = "cancel"
)

// Request is a transfer request as the loan's workflow takes it: an offer
// (HoldingID, Discount), a purchase (TransferID, Attempt, and Price: the
// price quoted on Today, the purchase's business date) or a cancel
// (TransferID). UserID is the seller of an offer or a cancel, the buyer of
// a purchase.
type Request struct {
	TransferID int64
	HoldingID  int64
	UserID     int64
	Attempt    int
	Discount   decimal.Decimal
	Price      decimal.Decimal
	Today      time.Time
}

// Reply is the workflow's answer: listed, sold (the buyer's new holding and
// the price) or cancelled.
type Reply struct {
	TransferID int64
	Status     string
	HoldingID  int64
	Price      decimal.Decimal
}

// Loans carries a transfer request to its loan's workflow under updateID
// (the same ID is the same request: carried out once, answered again) and
// waits for the answer. Errors: a refusal (*errs.Error: transfer_not_allowed,
// transfer_not_open, insufficient_balance, not_found, …), ErrProcessing (the
// loan has not answered yet: ask again with the same ID), errs.Unavailable.
// workflows.Transfers is the real one.
type Loans interface {
	Send(ctx context.Context, loanID int64, kind Kind, updateID string, r Request) (Reply, error)
}

// ErrProcessing: the loan has the request and has not answered yet; the
// same request sent again (its Idempotency-Key) answers the outcome.
var ErrProcessing = errors.New("transfer: the loan is still carrying out the request")

// New builds the service; today is the business date.
func New(pool *pgxpool.Pool, loans Loans, today func(context.Context) (time.Time, error), log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, q: db.Queries(pool), loans: loans, today: today, log: log}
}

// Offer lists the seller's holding for sale at discount, priced today.
// Errors: validation_failed (the discount), not_found (not the seller's
// holding), transfer_not_allowed (with its reason), ErrProcessing.
func (s *Service) Offer(ctx context.Context, sellerID, holdingID int64, discount decimal.Decimal, key string) (Listing, error) {
	if err := CheckDiscount(discount); err != nil {
		return Listing{}, err
	}
	h, err := s.q.HoldingGet(ctx, holdingID)
	if err != nil || h.HolderID != sellerID {
		return Listing{}, notFoundHolding(err)
	}
	day, err := s.today(ctx)
	if err != nil {
		return Listing{}, err
	}
	reply, err := s.loans.Send(ctx, h.LoanID, KindOffer, requestID("offer-transfer", sellerID, key),
		Request{HoldingID: holdingID, UserID: sellerID, Discount: discount, Today: day})
	if err != nil {
		return Listing{}, err
	}
	return s.get(ctx, reply.TransferID, day)
}

// Bought is a purchase made.
type Bought struct {
	TransferID int64
	Price      decimal.Decimal
	HoldingID  int64
	Status     Status
}

// Purchase buys a listing for the buyer, under its Idempotency-Key (key):
// the same key is the same purchase, whatever became of it. Errors:
// not_found, transfer_not_open, own_claim, the bid checks' codes (own_loan,
// no_custody_account, no_risk_assessment, account_locked,
// suitability_mismatch, insufficient_balance), idempotency_key_reused,
// ErrProcessing (won, and with the loan).
func (s *Service) Purchase(ctx context.Context, buyerID, transferID int64, key string) (Bought, error) {
	hash := keyHash(key)
	if hash != nil {
		p, err := s.q.TransferPurchaseByKey(ctx, dbq.TransferPurchaseByKeyParams{BuyerID: buyerID, KeyHash: hash})
		switch {
		case err == nil && p.TransferID != transferID:
			return Bought{}, errs.New(errs.IdempotencyKeyReused, "this Idempotency-Key bought transfer %d", p.TransferID)
		case err == nil:
			return s.again(ctx, p)
		case !errors.Is(err, db.ErrNotFound):
			return Bought{}, err
		}
	}
	t, err := s.q.TransferGet(ctx, transferID)
	if err != nil {
		return Bought{}, notFound(err)
	}
	if Status(t.Status) != Listed {
		return Bought{}, errs.New(errs.TransferNotOpen, "transfer %d is %s", t.ID, t.Status)
	}
	day, err := s.today(ctx)
	if err != nil {
		return Bought{}, err
	}
	l, err := s.get(ctx, transferID, day)
	if err != nil {
		return Bought{}, err
	}
	if err := s.mayBuy(ctx, buyerID, l); err != nil {
		return Bought{}, err
	}
	var p dbq.TransferPurchase
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		won, err := q.TransferWin(ctx, transferID)
		if errors.Is(err, db.ErrNotFound) {
			return errs.New(errs.TransferNotOpen, "transfer %d was taken by another buyer or closed", transferID)
		}
		if err != nil {
			return err
		}
		p = dbq.TransferPurchase{TransferID: won.ID, Attempt: won.Attempt, BuyerID: buyerID, KeyHash: hash,
			Price: l.Quote.Price, QuotedOn: day, Status: "buying"}
		return q.TransferPurchaseInsert(ctx, dbq.TransferPurchaseInsertParams{TransferID: p.TransferID, Attempt: p.Attempt,
			BuyerID: buyerID, KeyHash: hash, Price: p.Price, QuotedOn: day})
	})
	if db.UniqueViolation(err) {
		return Bought{}, errs.New(errs.Conflict, "a purchase with this Idempotency-Key is being made")
	}
	if err != nil {
		return Bought{}, err
	}
	return s.carry(ctx, p, t.LoanID)
}

// mayBuy applies the buyer checks (CheckBuyer) and the balance to a listing
// priced today.
func (s *Service) mayBuy(ctx context.Context, buyerID int64, l Listing) error {
	u, err := s.q.UserGet(ctx, buyerID)
	if err != nil {
		return err
	}
	b := Buyer{ID: u.ID, CustodyAccount: u.CustodyAccountNo != nil, Locked: u.Locked}
	if u.RiskLevel != nil {
		b.RiskLevel = *u.RiskLevel
	}
	if err := CheckBuyer(b, l.parties); err != nil {
		return err
	}
	sum, err := ledger.AccountSummary(ctx, s.pool, buyerID)
	if err != nil {
		return err
	}
	if sum.Available.LessThan(l.Quote.Price) {
		return errs.New(errs.InsufficientBalance, "available %s does not cover the price %s", sum.Available.StringFixed(2), l.Quote.Price.StringFixed(2))
	}
	return nil
}

// again answers a purchase its key made before: sold, refused as it was, or
// still being made (sent to the loan again, under the same update ID).
func (s *Service) again(ctx context.Context, p dbq.TransferPurchase) (Bought, error) {
	switch p.Status {
	case "sold":
		t, err := s.q.TransferGet(ctx, p.TransferID)
		if err != nil {
			return Bought{}, err
		}
		return boughtFrom(t), nil
	case "refused":
		code := errs.TransferNotOpen
		if p.Code != nil {
			code = *p.Code
		}
		return Bought{}, errs.New(code, "this purchase was refused")
	}
	t, err := s.q.TransferGet(ctx, p.TransferID)
	if err != nil {
		return Bought{}, err
	}
	return s.carry(ctx, p, t.LoanID)
}

// carry sends a purchase won in PostgreSQL to the loan and applies its
// answer: sold; refused (the listing open again, the purchase refused);
// ErrProcessing; or another error, the purchase left being made for the
// sweep (Settle) and the next try of its key.
func (s *Service) carry(ctx context.Context, p dbq.TransferPurchase, loanID int64) (Bought, error) {
	reply, err := s.loans.Send(ctx, loanID, KindBuy, fmt.Sprintf("buy-transfer-%d-%d", p.TransferID, p.Attempt),
		Request{TransferID: p.TransferID, UserID: p.BuyerID, Attempt: int(p.Attempt), Price: p.Price, Today: p.QuotedOn})
	var refusal *errs.Error
	switch {
	case err == nil:
		return Bought{TransferID: p.TransferID, Price: reply.Price, HoldingID: reply.HoldingID, Status: Sold}, nil
	case errors.As(err, &refusal) && refusedBeforeMoving[refusal.Code]:
		// Refused with nothing moved. The workflow gives the listing back
		// when its step refused; a refusal before any step (the listing lapsed,
		// the loan moved) is given back here. Both are guarded: once is all.
		ctx = context.WithoutCancel(ctx)
		if uerr := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			return Unwin(ctx, db.Queries(tx), p.TransferID, int(p.Attempt), refusal.Code)
		}); uerr != nil {
			return Bought{}, uerr
		}
		return Bought{}, refusal
	}
	return Bought{}, err
}

// refusedBeforeMoving are the refusals a purchase meets before any money
// moves (the loan judging it, or its step's plan); any other error leaves it
// being made, for the next try of its key and the sweep.
var refusedBeforeMoving = map[string]bool{
	errs.TransferNotOpen: true, errs.InsufficientBalance: true, errs.NoCustodyAccount: true, errs.InvalidState: true,
	errs.NotFound: true, errs.ValidationFailed: true,
}

// Settle sends every purchase still being made after olderThan to its loan
// again: its request's process may have died between winning the listing
// and hearing the answer (the worker's sweep). It answers how many it
// settled.
func (s *Service) Settle(ctx context.Context, olderThan time.Duration) (int, error) {
	rows, err := s.q.TransferPurchasesStale(ctx, olderThan.Seconds())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		p := dbq.TransferPurchase{TransferID: r.TransferID, Attempt: r.Attempt, BuyerID: r.BuyerID, KeyHash: r.KeyHash,
			Price: r.Price, QuotedOn: r.QuotedOn, Status: r.Status}
		_, err := s.carry(ctx, p, r.LoanID)
		var refusal *errs.Error
		switch {
		case err == nil || errors.As(err, &refusal) && refusedBeforeMoving[refusal.Code]:
			n++
		case errors.Is(err, ErrProcessing):
		default:
			s.log.Warn("transfer purchase not settled; tried again later", "transfer", r.TransferID, "attempt", r.Attempt, "error", err)
		}
	}
	return n, nil
}

// Cancel closes the seller's listing. Errors: not_found, transfer_not_open
// (sold, lapsed, being bought), ErrProcessing. A listing cancelled before
// answers as it is.
func (s *Service) Cancel(ctx context.Context, sellerID, transferID int64) (Listing, error) {
	t, err := s.q.TransferGet(ctx, transferID)
	if err != nil || t.SellerID != sellerID {
		return Listing{}, notFound(err)
	}
	day, err := s.today(ctx)
	if err != nil {
		return Listing{}, err
	}
	switch Status(t.Status) {
	case Cancelled:
		return s.get(ctx, transferID, day)
	case Listed:
	default:
		return Listing{}, errs.New(errs.TransferNotOpen, "transfer %d is %s", t.ID, t.Status)
	}
	if _, err := s.loans.Send(ctx, t.LoanID, KindCancel, fmt.Sprintf("cancel-transfer-%d", t.ID),
		Request{TransferID: t.ID, UserID: sellerID, Today: day}); err != nil {
		return Listing{}, err
	}
	return s.get(ctx, transferID, day)
}

// Get is one listing as viewer may see it: any open listing (listed, or
// being bought), and the ones the viewer sold or bought. Errors: not_found.
func (s *Service) Get(ctx context.Context, viewerID, transferID int64) (Listing, error) {
	day, err := s.today(ctx)
	if err != nil {
		return Listing{}, err
	}
	l, err := s.get(ctx, transferID, day)
	if err != nil {
		return Listing{}, err
	}
	if l.Status != Listed && l.Status != Buying && l.SellerID != viewerID && l.BuyerID != viewerID {
		return Listing{}, errNoSuchTransfer
	}
	return l, nil
}

// Browse is the open listings, priced today, newest first: limit of them
// with an id below before (nil: from the newest).
func (s *Service) Browse(ctx context.Context, before *int64, limit int) ([]Listing, error) {
	rows, err := s.q.TransferPageListed(ctx, dbq.TransferPageListedParams{BeforeID: before, Lim: int32(limit)})
	return s.pricedToday(ctx, rows, err)
}

// Mine is a user's transfers, as seller or buyer, newest first.
func (s *Service) Mine(ctx context.Context, userID int64, before *int64, limit int) ([]Listing, error) {
	rows, err := s.q.TransferPageByUser(ctx, dbq.TransferPageByUserParams{UserID: userID, BeforeID: before, Lim: int32(limit)})
	return s.pricedToday(ctx, rows, err)
}

// pricedToday is a page of listings read (rows, or the read's err) priced
// on the business date.
func (s *Service) pricedToday(ctx context.Context, rows []dbq.Transfer, err error) ([]Listing, error) {
	if err != nil {
		return nil, err
	}
	day, err := s.today(ctx)
	if err != nil {
		return nil, err
	}
	return s.priced(ctx, rows, day)
}

// Holdings is an investor's claims (claims.HoldingsOf).
func (s *Service) Holdings(ctx context.Context, investorID int64) ([]claims.HoldingView, error) {
	return claims.HoldingsOf(ctx, s.q, investorID)
}

func (s *Service) get(ctx context.Context, transferID int64, day time.Time) (Listing, error) {
	t, err := s.q.TransferGet(ctx, transferID)
	if err != nil {
		return Listing{}, notFound(err)
	}
	ls, err := s.priced(ctx, []dbq.Transfer{t}, day)
	if err != nil {
		return Listing{}, err
	}
	return ls[0], nil
}

// priced makes listings of rows: an open one priced on day, a sold one as
// it sold; a lapsed or cancelled one carries no price.
func (s *Service) priced(ctx context.Context, rows []dbq.Transfer, day time.Time) ([]Listing, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, t := range rows {
		ids[i] = t.ID
	}
	facts, err := s.q.TransferFacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]dbq.TransferFactsRow, len(facts))
	disbursed := map[int64]time.Time{}
	bids := make([]int64, 0, len(rows))
	for _, f := range facts {
		byID[f.ID] = f
	}
	for _, t := range rows {
		if f := byID[t.ID]; f.DisbursedOn != nil {
			disbursed[t.BidID] = *f.DisbursedOn
		}
		bids = append(bids, t.BidID)
	}
	claimsByBid, err := claimsOf(ctx, s.q, bids, disbursed)
	if err != nil {
		return nil, err
	}
	out := make([]Listing, len(rows))
	for i, t := range rows {
		out[i] = listingOf(t, byID[t.ID], claimsByBid[t.BidID], day)
	}
	return out, nil
}

func listingOf(t dbq.Transfer, f dbq.TransferFactsRow, c Claim, day time.Time) Listing {
	l := Listing{ID: t.ID, LoanID: t.LoanID, BidID: t.BidID, HoldingID: t.HoldingID, SellerID: t.SellerID,
		Discount: t.DiscountRate, Status: Status(t.Status), ListedOn: t.ListedOn, ExpiresOn: t.ExpiresOn,
		NextDueDate: c.Due, Installments: c.Open, ClosedOn: t.ClosedOn, ClosedAt: t.ClosedAt, CreatedAt: t.CreatedAt, Note: t.Note,
		parties: Parties{SellerID: t.SellerID, BorrowerID: f.BorrowerID}}
	if f.Grade != nil {
		l.Grade, l.parties.Grade = *f.Grade, *f.Grade
	}
	if f.AnnualRate != nil {
		l.AnnualRate = *f.AnnualRate
	}
	if f.GuarantorID != nil {
		l.parties.GuarantorID = *f.GuarantorID
	}
	switch l.Status {
	case Listed, Buying:
		l.Quote, l.Priced = c.Priced(t.DiscountRate, f.HeldFrom, day), true
	case Sold:
		l.Quote = Quote{Day: *t.ClosedOn, Principal: *t.Principal, Accrued: *t.AccruedInterest, Price: *t.Price, Fee: *t.Fee,
			Proceeds: t.Price.Sub(*t.Fee), HoldingDays: HoldingDays(f.HeldFrom, *t.ClosedOn)}
		l.Priced = true
		l.BuyerID, l.BuyerHoldingID = *t.BuyerID, *t.BuyerHoldingID
	}
	return l
}

func boughtFrom(t dbq.Transfer) Bought {
	b := Bought{TransferID: t.ID, Status: Status(t.Status)}
	if t.Price != nil {
		b.Price = *t.Price
	}
	if t.BuyerHoldingID != nil {
		b.HoldingID = *t.BuyerHoldingID
	}
	return b
}

// requestID names a request by its sender and Idempotency-Key, so the same
// request sent again is the same update; without a key, "" (a fresh one).
func requestID(name string, userID int64, key string) string {
	h := keyHash(key)
	if h == nil {
		return ""
	}
	return fmt.Sprintf("%s-%d-%s", name, userID, *h)
}

// keyHash is an Idempotency-Key as stored: the first 16 hex digits of its
// SHA-256, so no client text lands in histories or rows.
func keyHash(key string) *string {
	if key == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])[:16]
	return &h
}

func notFoundHolding(err error) error {
	if err == nil || errors.Is(err, db.ErrNotFound) {
		return errs.New(errs.NotFound, "no such holding")
	}
	return err
}
