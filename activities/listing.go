package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// NewbieMaxAmount: small grade A/B loans are newbie listings (新手标), open
// only to investors who have never bid (docs/listing.md).
var NewbieMaxAmount = decimal.RequireFromString("10000.00")

// ListLoan opens the listing for bids until ExpiresOn.
func (a *Activities) ListLoan(ctx context.Context, in ListInput) (ListResult, error) {
	var res ListResult
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		if loan.Status == lending.StatusListed { // a retry after the first attempt committed
			res.Newbie = loan.Newbie
			return nil
		}
		res.Newbie = (in.Grade == "A" || in.Grade == "B") && loan.Amount.LessThanOrEqual(NewbieMaxAmount)
		grade := in.Grade
		if _, err := q.LoanList(ctx, dbq.LoanListParams{
			ID: in.LoanID, Grade: &grade, AnnualRate: &in.Rate, Newbie: res.Newbie,
			ListedOn: &in.Today, ListingExpiresOn: &in.ExpiresOn,
		}); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return errs.New(errs.InvalidState, "loan %d is %s, not approved", in.LoanID, loan.Status)
			}
			return err
		}
		return history(ctx, q, in.LoanID, in.Seq, lending.StatusListed, in.Today, in.Note)
	})
	return res, classify(err)
}

// CloseListing ends a listing that is not full. The guard raised < amount is
// the same row the bids increment, so a close and a last bid cannot both win.
func (a *Activities) CloseListing(ctx context.Context, in CloseListingInput) (CloseListingResult, error) {
	var res CloseListingResult
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		_, err := q.LoanCloseListing(ctx, dbq.LoanCloseListingParams{ToStatus: in.To, ID: in.LoanID, FromStatuses: lending.Strings(in.From...)})
		if errors.Is(err, db.ErrNotFound) {
			loan, err := q.LoanGet(ctx, in.LoanID)
			if err != nil {
				return err
			}
			res.Closed = loan.Status == in.To // closed by an earlier attempt of this activity
			if !res.Closed {
				return nil
			}
		} else if err != nil {
			return err
		}
		res.Closed = true
		return history(ctx, q, in.LoanID, in.Seq, in.To, in.Today, in.Note)
	})
	return res, classify(err)
}

// MarkFull moves a listing whose raised amount equals its amount, with every
// bid frozen, to full. False means a freeze is still pending.
func (a *Activities) MarkFull(ctx context.Context, loanID int64) (bool, error) {
	_, err := a.q.LoanMarkFull(ctx, loanID)
	if errors.Is(err, db.ErrNotFound) {
		loan, err := a.q.LoanGet(ctx, loanID)
		if err != nil {
			return false, classify(err)
		}
		return loan.Status == lending.StatusFull, nil
	}
	return err == nil, classify(err)
}

// ReleaseBids unfreezes every frozen bid of the loan at the bank and in the
// ledger (流标, review rejected, cancelled). Each bid's release has its own
// request number, so a retry releases only what is left.
func (a *Activities) ReleaseBids(ctx context.Context, in ReleaseBidsInput) (ReleaseBidsResult, error) {
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: in.LoanID, Status: lending.BidFrozen})
	if err != nil {
		return ReleaseBidsResult{}, classify(err)
	}
	res := ReleaseBidsResult{Amount: decimal.Zero}
	for _, b := range bids {
		if err := a.ReleaseBid(ctx, b, in.Today); err != nil {
			return res, classify(err)
		}
		res.Released++
		res.Amount = res.Amount.Add(b.Amount)
	}
	return res, nil
}

// ReleaseBid returns one frozen bid's money to the investor's available
// balance. The bid path calls it too, for a freeze that completed after its
// listing closed.
func (a *Activities) ReleaseBid(ctx context.Context, b dbq.Bid, today time.Time) error {
	reqNo := bank.BidUnfreeze(b.ID)
	res, err := a.bank.Unfreeze(ctx, bank.UnfreezeRequest{RequestNo: reqNo, FreezeRequestNo: bank.BidFreeze(b.ID)})
	ok, code, err := bankResult(res, err)
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Conflict, "bank refused to release bid %d: %s", b.ID, code)
	}
	return a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		if _, err := ledger.Post(ctx, tx, ledger.Unfreeze(reqNo, b.InvestorID, b.Amount, bidRef(b.ID), today)); err != nil {
			return err
		}
		_, err := q.BidSetStatus(ctx, dbq.BidSetStatusParams{ToStatus: lending.BidReleased, ID: b.ID, FromStatuses: lending.Strings(lending.BidFrozen, lending.BidPending)})
		if errors.Is(err, db.ErrNotFound) {
			return nil // released by an earlier attempt
		}
		return err
	})
}

func bidRef(bidID int64) string { return fmt.Sprintf("bid:%d", bidID) }
