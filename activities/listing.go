package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// NewbieMaxAmount: small grade A/B loans are newbie listings (新手标), open
// only to investors who have never bid (docs/lifecycle.md "Listing").
var NewbieMaxAmount = decimal.RequireFromString("10000.00")

// List opens an approved loan's listing for bids until ExpiresOn: after ops'
// due diligence approved it, or the named guarantor accepted.
func (a *Activities) List(ctx context.Context, in ListInput) (ListResult, error) {
	var res ListResult
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		r := newRows(q, in.LoanID, in.Seq, in.Today)
		from := in.From
		if from == "" {
			from = lending.StatusDueDiligence
		}
		if err := r.move(ctx, []lending.Status{from}, lending.StatusApproved, "%s", in.Note); err != nil {
			return err
		}
		var err error
		res.Newbie, err = list(ctx, q, r, in)
		return err
	})
	return res, classify(err)
}

// list moves an approved loan to listed and publishes the expiry as its next
// dated step.
func list(ctx context.Context, q *dbq.Queries, r *rows, in ListInput) (bool, error) {
	loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
	if err != nil {
		return false, err
	}
	newbie := loan.Newbie
	if loan.Status != lending.StatusListed { // else: a retry after the first attempt committed
		newbie = (in.Grade == "A" || in.Grade == "B") && loan.Amount.LessThanOrEqual(NewbieMaxAmount)
		grade := in.Grade
		if _, err := q.LoanList(ctx, dbq.LoanListParams{
			ID: in.LoanID, Grade: &grade, AnnualRate: &in.Rate, Newbie: newbie,
			ListedOn: &in.Today, ListingExpiresOn: &in.ExpiresOn,
		}); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return false, errs.New(errs.InvalidState, "loan %d is %s, not approved", in.LoanID, loan.Status)
			}
			return false, err
		}
	}
	if err := r.add(ctx, lending.StatusListed, "open for bids until %s", dateOnly(in.ExpiresOn)); err != nil {
		return false, err
	}
	return newbie, publish(ctx, q, in.LoanID, in.Seq, &in.ExpiresOn)
}

// MarkFull moves a listing whose raised amount equals its amount, every
// freeze confirmed, to full and on to full-tender review (满标复审), which
// waits for ops: no dated step. False means a freeze is still pending; its
// completion signals again.
func (a *Activities) MarkFull(ctx context.Context, in MarkFullInput) (bool, error) {
	full := false
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		if loan.Status == lending.StatusListed {
			if _, err := q.LoanMarkFull(ctx, in.LoanID); errors.Is(err, db.ErrNotFound) {
				return nil // not full yet, or a freeze pending
			} else if err != nil {
				return err
			}
		} else if loan.Status != lending.StatusFull && loan.Status != lending.StatusFullReview {
			return nil // closed first (expired or cancelled)
		}
		full = true
		r := newRows(q, in.LoanID, in.Seq, in.Today)
		if err := r.add(ctx, lending.StatusFull, "listing full: %s raised", loan.Amount.StringFixed(2)); err != nil {
			return err
		}
		if err := r.move(ctx, []lending.Status{lending.StatusFull}, lending.StatusFullReview, "awaiting full-tender review"); err != nil {
			return err
		}
		return publish(ctx, q, in.LoanID, in.Seq, nil)
	})
	return full, classify(err)
}

// Close ends a loan before disbursement and releases every freeze of its bids
// at the bank (流标, cancelled, review rejected). A listing closes only while
// not full: the guard raised < amount is the row the bids increment, so a
// close and a last bid cannot both win. The release runs even when an earlier
// attempt closed the loan, so a crash between the two cannot leave money frozen.
func (a *Activities) Close(ctx context.Context, in CloseInput) (CloseResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	res := CloseResult{Amount: decimal.Zero}
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		switch {
		case loan.Status == in.To:
			// An earlier attempt closed it; the release below finishes its work.
		case loan.Status == lending.StatusListed:
			_, err := q.LoanCloseListing(ctx, dbq.LoanCloseListingParams{ToStatus: in.To, ID: in.LoanID, FromStatuses: lending.Strings(in.From...)})
			if errors.Is(err, db.ErrNotFound) {
				return nil // the listing filled first
			} else if err != nil {
				return err
			}
		default:
			_, err := q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: in.To, ID: in.LoanID, FromStatuses: lending.Strings(in.From...)})
			if errors.Is(err, db.ErrNotFound) {
				return errs.New(errs.InvalidState, "loan %d is %s, not %v", in.LoanID, loan.Status, in.From)
			} else if err != nil {
				return err
			}
		}
		res.Closed = true
		if err := history(ctx, q, in.LoanID, in.Seq, in.To, in.Today, in.Note); err != nil {
			return err
		}
		if in.To == lending.StatusExpired {
			raised := loan.Raised
			if err := notify(ctx, q, notice{
				UserID: loan.BorrowerID, Kind: lending.NoticeListingExpired, LoanID: loan.ID, Amount: &raised, On: in.Today, At: a.contactAt(in.Today),
				Dedupe: fmt.Sprintf("loan-%d-listing-expired", loan.ID),
				Message: fmt.Sprintf("The listing of loan %d closed on %s without filling: %s of %s was bid, and every bid is released. You may apply again.",
					loan.ID, dateOnly(in.Today), raised.StringFixed(2), loan.Amount.StringFixed(2)),
			}); err != nil {
				return err
			}
		}
		return publish(ctx, q, in.LoanID, in.Seq, nil)
	})
	if err != nil || !res.Closed {
		return res, classify(err)
	}
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: in.LoanID, Status: lending.BidFrozen})
	if err != nil {
		return res, classify(err)
	}
	for _, b := range bids {
		if err := bidding.Release(ctx, a.pool, a.bank, b, in.Today); err != nil {
			return res, classify(err)
		}
		res.Released++
		res.Amount = res.Amount.Add(b.Amount)
	}
	return res, nil
}
