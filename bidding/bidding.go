// Package bidding admits investors' bids (投标). PostgreSQL, not the loan
// workflow, is the authority: a bid is admitted by one guarded increment of the
// loan's raised amount, so a listing is never oversubscribed however many bids
// race, and the workflow only hears once that the listing is full.
package bidding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Bid rules (docs/rules.md "Bids").
var (
	MinimumBid  = decimal.RequireFromString("100.00")
	BidMultiple = decimal.RequireFromString("1.00")
)

// freezeTries: the bank is asked this many times under the same request
// number before the bid is left pending for the settlement sweep.
const freezeTries = 3

// DefaultFreezeWait bounds how long a bid waits for the bank's freeze, all
// tries included: past it the bid is pending (202) and the sweep settles it,
// so nobody waits blind on a bank that does not answer.
const DefaultFreezeWait = 10 * time.Second

// Service places bids.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	bank  bank.Client
	loans Loans
	log   *slog.Logger
	batch batcher
	books bookings
	// FreezeWait is DefaultFreezeWait unless a test shortens it.
	FreezeWait time.Duration
}

// Loans is how the bid path tells a loan that its listing filled; the loan
// workflow's signal (workflows.Signals) is the real one.
type Loans interface {
	ListingFull(ctx context.Context, workflowID string, today time.Time) error
}

// New builds the service.
func New(pool *pgxpool.Pool, b bank.Client, loans Loans, log *slog.Logger) *Service {
	return &Service{pool: pool, q: db.Queries(pool), bank: b, loans: loans, log: log, FreezeWait: DefaultFreezeWait}
}

// Place admits and freezes one bid. A bid the bank has not answered within
// FreezeWait comes back admitted and pending (lending.BidPending), with no
// error: the settlement sweep finishes it. Errors are *errs.Error with the
// API's codes: no_custody_account, no_risk_assessment, account_locked,
// not_found, listing_not_open, own_loan, suitability_mismatch, newbie_only,
// oversubscribed, below_minimum_bid, not_bid_multiple, insufficient_balance,
// conflict (the bank refused the freeze for another reason).
func (s *Service) Place(ctx context.Context, investorID, loanID int64, amount decimal.Decimal, today time.Time) (Bid, error) {
	return s.PlaceOnce(ctx, "", investorID, loanID, amount, today)
}

// PlaceOnce is Place under the caller's Idempotency-Key (docs/idempotency.md):
// the bid carries the key, written in the transaction that admits it, so the
// same key never makes a second bid. Sent again, it answers the bid the key
// made, as it is now: frozen (or released, disbursed), still pending (the
// freeze is asked again under its request number), or failed with the bank's
// refusal. The key with another listing or amount is idempotency_key_reused.
// An empty key is Place.
func (s *Service) PlaceOnce(ctx context.Context, key string, investorID, loanID int64, amount decimal.Decimal, today time.Time) (Bid, error) {
	b, err := s.place(ctx, investorID, loanID, amount, today, false, key, nil, 0)
	return bidFrom(b), err
}

// PlaceWithCoupon is PlaceOnce with the investor's coupon attached
// (docs/coupons.md): judged with the bid's other rules in the transaction
// that admits it, and reserved with it. A coupon that may not go with the
// bid refuses the whole bid (coupon_not_usable, its reason in the detail),
// before anything is frozen.
func (s *Service) PlaceWithCoupon(ctx context.Context, key string, investorID, loanID int64, amount decimal.Decimal, today time.Time, couponID int64) (Bid, error) {
	b, err := s.place(ctx, investorID, loanID, amount, today, false, key, nil, couponID)
	return bidFrom(b), err
}

// Claim is an API request's Idempotency-Key (api/idempotency.go), claimed
// in the transaction that admits the bid rather than in one of its own, and
// answered, when the bid ends frozen on an open listing, in the transaction
// that books the freeze: the key is stored with its effect (docs/idempotency.md)
// and the bid costs two commits, not four. Any other answer the API stores
// after, as for every other route.
type Claim struct {
	idempotency.Claim
	// Answer is the body of the 201 answer to the frozen bid b.
	Answer func(b Bid) []byte
	// Set by PlaceClaimed. Claimed: the claim is committed (with the bid,
	// or with the repeat of the bid the key made before). Stored: so is the
	// answer, StoredBody, which the API sends as it is. Taken: the key was
	// another request's (or this one's, answered): nothing was done.
	Claimed, Stored, Taken bool
	StoredBody             []byte
}

// ErrKeyTaken: PlaceClaimed found the Idempotency-Key claimed already; the
// API replays or refuses as for any key it finds taken.
var ErrKeyTaken = errors.New("bidding: the Idempotency-Key is taken")

// PlaceClaimed is PlaceOnce for the API: the business date is read with the
// bid's other facts (not by the caller), and the request's key, when c is
// not nil, is claimed and answered beside the bid (Claim).
// couponID, when not 0, is the investor's coupon to attach (PlaceWithCoupon).
func (s *Service) PlaceClaimed(ctx context.Context, c *Claim, investorID, loanID int64, amount decimal.Decimal, couponID int64) (Bid, error) {
	key := ""
	if c != nil {
		key = c.Key
	}
	b, err := s.place(ctx, investorID, loanID, amount, time.Time{}, false, key, c, couponID)
	return bidFrom(b), err
}

// Bid is one investor's bid on one listing (docs/rules.md "Bids").
type Bid struct {
	ID         int64
	LoanID     int64
	InvestorID int64
	Amount     decimal.Decimal
	Status     lending.BidStatus
	Auto       bool // placed by an auto-invest rule
	CreatedAt  time.Time
}

func bidFrom(b dbq.Bid) Bid {
	return Bid{ID: b.ID, LoanID: b.LoanID, InvestorID: b.InvestorID, Amount: b.Amount, Status: b.Status, Auto: b.Auto, CreatedAt: b.CreatedAt}
}

// ListByInvestor is the investor's bids, newest first: limit of them with
// an id below before (nil: from the newest).
func (s *Service) ListByInvestor(ctx context.Context, investorID int64, before *int64, limit int) ([]Bid, error) {
	rows, err := s.q.BidPageByInvestor(ctx, dbq.BidPageByInvestorParams{InvestorID: investorID, BeforeID: before, Lim: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Bid, len(rows))
	for i, b := range rows {
		out[i] = bidFrom(b)
	}
	return out, nil
}

// errUnanswered: the bank did not answer the freeze in time; the bid stays
// pending under its request number.
var errUnanswered = errors.New("the bank did not answer the freeze")

func (s *Service) place(ctx context.Context, investorID, loanID int64, amount decimal.Decimal, today time.Time, auto bool, key string, c *Claim, couponID int64) (dbq.Bid, error) {
	var keyp *string
	if key != "" {
		keyp = &key
	}
	bid, accountNo, day, err := s.admit(ctx, investorID, loanID, amount, today, auto, keyp, c, couponID)
	switch {
	case errors.Is(err, errRepeat):
		if couponID != 0 {
			// The key's bid went with its own coupon, or none: one coupon a bid.
			has, err := s.q.CouponIDByBid(ctx, &bid.ID)
			if err != nil {
				return bid, err
			}
			if has != couponID {
				return bid, coupons.NotUsable(coupons.ReasonAnother)
			}
		}
		return s.again(ctx, bid, loanID, amount, day)
	case errors.Is(err, ErrKeyTaken):
		return bid, err
	case err == nil:
		bid, err = s.freeze(ctx, bid, accountNo, day, c)
		if errors.Is(err, errUnanswered) {
			err = nil // admitted and pending: the sweep settles it
		}
	}
	bidsTotal.WithLabelValues(outcome(bid, err)).Inc()
	return bid, err
}

// errRepeat: admit found the bid the key made (a concurrent retry won).
var errRepeat = errors.New("the key made a bid already")

// admit applies the bid rules and, in one transaction under the investor's
// lock, checks what they may spend (available minus what is in flight),
// records the pending bid and takes its place in the listing, all before the
// bank is asked; the transaction is its listing's next batch (batch.go). The
// lock is the investor's, not the listing's: other investors' bids on the
// same listing wait only for the guarded increment. It returns the bid, the
// investor's custody account and the business date (today, or the
// platform's when today is zero). Under a Claim the key is claimed in the
// same transaction.
func (s *Service) admit(ctx context.Context, investorID, loanID int64, amount decimal.Decimal, today time.Time, auto bool, key *string, c *Claim, couponID int64) (dbq.Bid, string, time.Time, error) {
	a := &admission{investorID: investorID, amount: amount, today: today, auto: auto, key: key, c: c, couponID: couponID}
	s.admitQueued(ctx, loanID, a)
	if a.err == nil && a.repeat {
		a.err = errRepeat
	}
	return a.bid, a.accountNo, a.day, a.err
}

// again answers a request whose key made bid already: the same bid as it is
// now, never a second one.
func (s *Service) again(ctx context.Context, bid dbq.Bid, loanID int64, amount decimal.Decimal, today time.Time) (dbq.Bid, error) {
	same := bid.LoanID == loanID && bid.Amount.Equal(amount)
	if _, err := idempotency.Again(bid, same, fmt.Sprintf("bid %d, of %s on listing %d", bid.ID, bid.Amount.StringFixed(2), bid.LoanID)); err != nil {
		return bid, err
	}
	switch bid.Status {
	case lending.BidFailed:
		return bid, refusal(deref(bid.FailureCode))
	case lending.BidPending:
		inv, err := s.q.UserGet(ctx, bid.InvestorID)
		if err != nil {
			return bid, err
		}
		out, err := s.freeze(ctx, bid, *inv.CustodyAccountNo, today, nil)
		if errors.Is(err, errUnanswered) {
			return out, nil
		}
		return out, err
	}
	return bid, nil
}

// refusal is the answer for a freeze the bank refused with code.
func refusal(code string) error {
	if code == bank.CodeInsufficientBalance {
		return errs.New(errs.InsufficientBalance, "the bank refused the freeze: insufficient balance")
	}
	return errs.New(errs.Conflict, "the bank refused the freeze: %s", code)
}

// eligible applies the rules of 投标判定 that need no lock. The newbie
// rule and the balance are judged in admit, under the investor's lock.
func (s *Service) eligible(inv dbq.User, loan dbq.Loan, amount decimal.Decimal, today time.Time) error {
	remaining := loan.Amount.Sub(loan.Raised)
	switch {
	case loan.Status != lending.StatusListed || loan.ListingExpiresOn == nil || !today.Before(*loan.ListingExpiresOn):
		return errs.New(errs.ListingNotOpen, "the listing is %s", loan.Status)
	case remaining.IsZero():
		return errs.New(errs.ListingNotOpen, "the listing is full")
	case loan.BorrowerID == inv.ID || (loan.GuarantorID != nil && *loan.GuarantorID == inv.ID):
		return errs.New(errs.OwnLoan, "a borrower or guarantor cannot bid on the loan")
	case inv.CustodyAccountNo == nil:
		return errs.New(errs.NoCustodyAccount, "open a custody account first")
	case inv.RiskLevel == nil:
		return errs.New(errs.NoRiskAssessment, "take the risk assessment first")
	case inv.Locked:
		return errs.New(errs.AccountLocked, "the account is locked")
	case loan.Grade == nil || !money.Suitable(money.RiskLevel(*inv.RiskLevel), money.Grade(*loan.Grade)):
		return errs.New(errs.SuitabilityMismatch, "risk level %s does not cover grade %s", deref(inv.RiskLevel), deref(loan.Grade))
	}
	switch {
	case amount.GreaterThan(remaining):
		return errs.New(errs.Oversubscribed, "only %s remains", remaining.StringFixed(2))
	case amount.Equal(remaining):
		// The last bid may be below the minimum and need not be a multiple.
	case amount.LessThan(MinimumBid):
		return errs.New(errs.BelowMinimumBid, "the minimum bid is %s", MinimumBid.StringFixed(2))
	case !amount.Mod(BidMultiple).IsZero():
		return errs.New(errs.NotBidMultiple, "bids are multiples of %s", BidMultiple.StringFixed(2))
	}
	return nil
}

// freeze asks the bank to freeze the bid (投标冻结) and mirrors it, on the
// bank's business date of the freeze: the date its answer carries, the same
// on a repeat, so a freeze settled by the sweep the next day is booked on the
// day whose file shows it. A refusal fails the bid with the bank's code and
// gives the amount back to the listing. A bank that does not answer within
// FreezeWait leaves the bid pending under its request number, which is safe
// to send again, and freeze answers errUnanswered. Under a claimed Claim
// the frozen bid's answer is stored in the transaction that books it.
//
// Once the bank has answered, what follows is recorded even if ctx ends (the
// client hung up): an answer heard and dropped would wait for the sweep.
func (s *Service) freeze(ctx context.Context, bid dbq.Bid, accountNo string, today time.Time, c *Claim) (dbq.Bid, error) {
	reqNo := bank.BidFreeze(bid.ID)
	wait := s.FreezeWait
	if wait <= 0 {
		wait = DefaultFreezeWait
	}
	bankCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var res bank.Result
	var err error
	for try := 0; try < freezeTries; try++ {
		res, err = s.bank.Freeze(bankCtx, bank.FreezeRequest{RequestNo: reqNo, AccountNo: accountNo, Amount: bid.Amount})
		var be *bank.Error
		if err == nil || (errors.As(err, &be) && !be.Retryable) || bankCtx.Err() != nil {
			break
		}
	}
	ctx = context.WithoutCancel(ctx)
	var be *bank.Error
	refused := errors.As(err, &be) && !be.Retryable
	if err != nil && !refused {
		s.log.Warn("bid freeze unanswered; bid left pending", "bid", bid.ID, "error", err)
		return bid, errUnanswered
	}
	if refused || res.Status == bank.StatusFailed {
		code := res.Code
		if refused {
			code = be.Code
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := db.Queries(tx)
			failed, err := q.BidSetFailed(ctx, dbq.BidSetFailedParams{ID: bid.ID, FailureCode: &code})
			if errors.Is(err, db.ErrNotFound) {
				// failed already: its amount went back then, only once
				bid, err = q.BidGet(ctx, bid.ID)
				return err
			}
			if err != nil {
				return err
			}
			bid = failed
			// The bid never stood: its coupon is the investor's to use again.
			if err := coupons.Release(ctx, q, bid.ID, bid.LoanID, today); err != nil {
				return err
			}
			return q.LoanReturnBid(ctx, dbq.LoanReturnBidParams{ID: bid.LoanID, Amount: bid.Amount})
		})
		if err != nil {
			return bid, err
		}
		return bid, refusal(code)
	}

	// The bank's day of the freeze: the file it is in.
	b := &booking{orig: bid, entry: ledger.Freeze(reqNo, bid.InvestorID, bid.Amount, "bid:"+itoa(bid.ID), res.Day(today))}
	b.entry.LoanID = bid.LoanID
	var answer []byte
	if c != nil && c.Claimed && c.Answer != nil {
		frozen := bidFrom(bid)
		frozen.Status = lending.BidFrozen
		answer = c.Answer(frozen)
		b.keyOwner, b.key, b.code, b.answer = c.Owner, c.Key, http.StatusCreated, answer
	}
	s.bookQueued(ctx, b)
	bid, loan := b.bid, b.loan
	if b.err != nil {
		return bid, b.err
	}
	if loan.AnswerStored {
		c.Stored, c.StoredBody = true, answer
	}
	switch {
	case loan.Status != lending.StatusListed && loan.Status != lending.StatusFull:
		// The listing closed while this freeze was in flight: give it back.
		if bid, err = s.q.BidGet(ctx, bid.ID); err != nil {
			return bid, err
		}
		if err := Release(ctx, s.pool, s.bank, bid, today); err != nil {
			return bid, err
		}
		if bid, err = s.q.BidGet(ctx, bid.ID); err != nil {
			return bid, err
		}
		return bid, errs.New(errs.ListingNotOpen, "the listing closed (%s); the bid was released", loan.Status)
	case loan.Raised.Equal(loan.Amount):
		sctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		err := s.loans.ListingFull(sctx, loan.WorkflowID, today)
		if err != nil {
			// The bid stands; the loan hears it is full from the next signal or from ops.
			s.log.Error("listing-full signal failed", "loan", loan.ID, "error", err)
		}
	}
	return bid, nil
}

func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

func itoa(n int64) string { return decimal.NewFromInt(n).String() }

// SettlePending finishes bids whose freeze the bank did not answer at the
// time: the freeze is sent again under the same request number, so the bank
// either does it now or answers what it did then, and the bid ends frozen (or
// released, if its listing closed meanwhile) or failed with its amount given
// back to the listing. The worker runs it every few seconds.
func (s *Service) SettlePending(ctx context.Context, olderThan time.Duration, today func(context.Context) (time.Time, error)) (int, error) {
	rows, err := s.q.BidListPendingBefore(ctx, time.Now().Add(-olderThan))
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	day, err := today(ctx)
	if err != nil {
		return 0, err
	}
	settled := 0
	for _, row := range rows {
		if row.CustodyAccountNo == nil {
			continue
		}
		bid := dbq.Bid{ID: row.ID, LoanID: row.LoanID, InvestorID: row.InvestorID, Amount: row.Amount, Status: row.Status,
			Auto: row.Auto, CreatedAt: row.CreatedAt, IdempotencyKey: row.IdempotencyKey, FailureCode: row.FailureCode}
		_, err := s.freeze(ctx, bid, *row.CustodyAccountNo, day, nil)
		if errors.Is(err, errUnanswered) {
			continue // still unanswered: next round
		}
		settled++
	}
	return settled, nil
}
