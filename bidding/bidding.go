// Package bidding admits investors' bids (投标). PostgreSQL, not the loan
// workflow, is the authority: a bid is admitted by one guarded increment of the
// loan's raised amount, so a listing is never oversubscribed however many bids
// race, and the workflow only hears once that the listing is full.
package bidding

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/workflows"
)

// Bid rules (DOMAIN.md "Bids").
var (
	MinimumBid  = decimal.RequireFromString("100.00")
	BidMultiple = decimal.RequireFromString("1.00")
)

// freezeTries: the bank is asked this many times under the same request
// number before the bid is left pending for reconciliation.
const freezeTries = 3

// Service places bids.
type Service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	bank     bank.Client
	temporal client.Client
	acts     *activities.Activities
	log      *slog.Logger
}

// New builds the service.
func New(pool *pgxpool.Pool, b bank.Client, tc client.Client, acts *activities.Activities, log *slog.Logger) *Service {
	return &Service{pool: pool, q: db.Queries(pool), bank: b, temporal: tc, acts: acts, log: log}
}

// Place admits and freezes one bid. Errors are *errs.Error with the API's
// codes: no_custody_account, no_risk_assessment, account_locked, not_found,
// listing_not_open, own_loan, suitability_mismatch, newbie_only,
// oversubscribed, below_minimum_bid, not_bid_multiple, insufficient_balance,
// bank_unavailable.
func (s *Service) Place(ctx context.Context, investorID, loanID int64, amount decimal.Decimal, today time.Time) (Bid, error) {
	b, err := s.place(ctx, investorID, loanID, amount, today, false)
	return bidFrom(b), err
}

// Bid is one investor's bid on one listing (DOMAIN.md "Bids").
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

func (s *Service) place(ctx context.Context, investorID, loanID int64, amount decimal.Decimal, today time.Time, auto bool) (dbq.Bid, error) {
	inv, err := s.q.UserGet(ctx, investorID)
	if err != nil {
		return dbq.Bid{}, err
	}
	loan, err := s.q.LoanGet(ctx, loanID)
	if errors.Is(err, db.ErrNotFound) {
		return dbq.Bid{}, errs.New(errs.NotFound, "no listing %d", loanID)
	} else if err != nil {
		return dbq.Bid{}, err
	}
	if err := s.eligible(ctx, inv, loan, amount, today); err != nil {
		return dbq.Bid{}, err
	}

	var bid dbq.Bid
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if bid, err = q.BidInsert(ctx, dbq.BidInsertParams{LoanID: loanID, InvestorID: investorID, Amount: amount, Auto: auto}); err != nil {
			return err
		}
		_, err = q.LoanAdmitBid(ctx, dbq.LoanAdmitBidParams{ID: loanID, Amount: amount, Today: &today})
		if errors.Is(err, db.ErrNotFound) {
			// Lost a race: re-read to say which.
			now, err := q.LoanGet(ctx, loanID)
			if err != nil {
				return err
			}
			if now.Status != lending.StatusListed || !today.Before(*now.ListingExpiresOn) {
				return errs.New(errs.ListingNotOpen, "the listing is %s", now.Status)
			}
			return errs.New(errs.Oversubscribed, "only %s remains", now.Amount.Sub(now.Raised).StringFixed(2))
		}
		return err
	})
	if err != nil {
		return dbq.Bid{}, err
	}
	return s.freeze(ctx, bid, *inv.CustodyAccountNo, today)
}

// eligible applies 投标判定 before anything is written.
func (s *Service) eligible(ctx context.Context, inv dbq.User, loan dbq.Loan, amount decimal.Decimal, today time.Time) error {
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
	if loan.Newbie {
		n, err := s.q.BidCountByInvestor(ctx, inv.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.New(errs.NewbieOnly, "a newbie listing is only for investors who have never bid")
		}
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
	sum, err := ledger.AccountSummary(ctx, s.pool, inv.ID)
	if err != nil {
		return err
	}
	if sum.Available.LessThan(amount) {
		return errs.New(errs.InsufficientBalance, "available %s does not cover %s", sum.Available.StringFixed(2), amount.StringFixed(2))
	}
	return nil
}

// freeze asks the bank to freeze the bid (投标冻结) and mirrors it. A refusal
// gives the amount back to the listing; an unanswered request leaves the bid
// pending under its request number, which is safe to send again.
func (s *Service) freeze(ctx context.Context, bid dbq.Bid, accountNo string, today time.Time) (dbq.Bid, error) {
	reqNo := bank.BidFreeze(bid.ID)
	var res bank.Result
	var err error
	for try := 0; try < freezeTries; try++ {
		res, err = s.bank.Freeze(ctx, bank.FreezeRequest{RequestNo: reqNo, AccountNo: accountNo, Amount: bid.Amount})
		var be *bank.Error
		if err == nil || (errors.As(err, &be) && !be.Retryable) || ctx.Err() != nil {
			break
		}
	}
	var be *bank.Error
	refused := errors.As(err, &be) && !be.Retryable
	if err != nil && !refused {
		s.log.Error("bid freeze unanswered; bid left pending", "bid", bid.ID, "error", err)
		return bid, errs.New(errs.BankUnavailable, "the bank did not answer; the bid is pending and will be settled")
	}
	if refused || res.Status == bank.StatusFailed {
		code := res.Code
		if refused {
			code = be.Code
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := db.Queries(tx)
			_, err := q.BidSetStatus(ctx, dbq.BidSetStatusParams{ToStatus: lending.BidFailed, ID: bid.ID, FromStatuses: lending.Strings(lending.BidPending)})
			if errors.Is(err, db.ErrNotFound) {
				return nil // failed already: its amount went back then, only once
			}
			if err != nil {
				return err
			}
			return q.LoanReturnBid(ctx, dbq.LoanReturnBidParams{ID: bid.LoanID, Amount: bid.Amount})
		})
		if err != nil {
			return bid, err
		}
		if code == bank.CodeInsufficientBalance {
			return bid, errs.New(errs.InsufficientBalance, "the bank refused the freeze: insufficient balance")
		}
		return bid, errs.New(errs.Conflict, "the bank refused the freeze: %s", code)
	}

	var loan dbq.Loan
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if _, err := ledger.Post(ctx, tx, ledger.Freeze(reqNo, bid.InvestorID, bid.Amount, "bid:"+itoa(bid.ID), today)); err != nil {
			return err
		}
		frozen, err := q.BidSetStatus(ctx, dbq.BidSetStatusParams{ToStatus: lending.BidFrozen, ID: bid.ID, FromStatuses: lending.Strings(lending.BidPending)})
		if errors.Is(err, db.ErrNotFound) {
			// The settlement sweep and the request finished the same freeze.
			frozen, err = q.BidGet(ctx, bid.ID)
		}
		if err != nil {
			return err
		}
		bid = frozen
		loan, err = q.LoanGet(ctx, bid.LoanID)
		return err
	})
	if err != nil {
		return bid, err
	}
	switch {
	case loan.Status != lending.StatusListed && loan.Status != lending.StatusFull:
		// The listing closed while this freeze was in flight: give it back.
		if err := s.acts.ReleaseBid(ctx, bid.ID, today); err != nil {
			return bid, err
		}
		return bid, errs.New(errs.ListingNotOpen, "the listing closed (%s); the bid was released", loan.Status)
	case loan.Raised.Equal(loan.Amount):
		err := s.temporal.SignalWorkflow(ctx, loan.WorkflowID, "", workflows.SignalListingFull, workflows.TodayRequest{Today: today})
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
		bid := dbq.Bid{ID: row.ID, LoanID: row.LoanID, InvestorID: row.InvestorID, Amount: row.Amount, Status: row.Status, Auto: row.Auto, CreatedAt: row.CreatedAt}
		_, err := s.freeze(ctx, bid, *row.CustodyAccountNo, day)
		if errs.Code(err) == errs.BankUnavailable {
			continue // still unanswered: next round
		}
		settled++
	}
	return settled, nil
}
