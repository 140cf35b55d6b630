package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// A listing lapses by itself (docs/rules.md "Debt transfer") at the start of
// the 5th day before the next due date (LapseOn), when the loan leaves
// repaying (overdue, repaid early, written off), and — decided — when the
// borrower repays an installment by hand while it is listed, since the
// claim a buyer would get is then no longer the one listed. A lapsed listing
// moved nothing; its seller is told.

// Why a listing lapsed, as the history and the seller's notice say it.
const (
	LapsedBlackout = "the 5 days before the next due date began: no transfer then (还款日前5天不可转让)"
	LapsedRepaid   = "the borrower repaid, so the claim is no longer as listed"
	LapsedNotDue   = "the loan is no longer in repayment"
)

// Lapse closes every open listing of the loan on day for reason, in the
// step's transaction, refuses any purchase still being made of them, and
// tells each seller (at: when it reaches them). It answers the listings
// that lapsed.
func Lapse(ctx context.Context, q *dbq.Queries, loanID int64, day time.Time, reason string, at time.Time) ([]dbq.Transfer, error) {
	lapsed, err := q.TransferLapseOpen(ctx, dbq.TransferLapseOpenParams{LoanID: loanID, ClosedOn: &day, Note: reason})
	if err != nil || len(lapsed) == 0 {
		return lapsed, err
	}
	if err := q.TransferPurchasesLapsed(ctx, loanID); err != nil {
		return nil, err
	}
	for _, t := range lapsed {
		if err := event(ctx, q, t, Lapsed, day, nil, 0); err != nil {
			return nil, err
		}
		if err := contact.Write(ctx, q, contact.Notice{
			UserID: t.SellerID, Kind: lending.NoticeTransferLapsed, LoanID: loanID, On: day, At: at,
			Dedupe:  fmt.Sprintf("transfer-%d-lapsed", t.ID),
			Message: fmt.Sprintf("Loan %d: your transfer listing %d lapsed unsold: %s. Your claim is yours as before.", loanID, t.ID, reason),
		}); err != nil {
			return nil, err
		}
	}
	return lapsed, nil
}

// Cancel closes the seller's listing while it is listed; one being bought, sold
// or closed is not open (transfer_not_open). A listing the seller cancelled
// before answers as it is.
func Cancel(ctx context.Context, q *dbq.Queries, transferID, sellerID int64, day time.Time) (dbq.Transfer, *errs.Error, error) {
	t, err := q.TransferGet(ctx, transferID)
	if err != nil {
		return dbq.Transfer{}, nil, notFound(err)
	}
	if t.SellerID != sellerID {
		return dbq.Transfer{}, errNoSuchTransfer, nil
	}
	if Status(t.Status) == Cancelled {
		return t, nil, nil
	}
	c, err := q.TransferCancel(ctx, dbq.TransferCancelParams{ID: transferID, ClosedOn: &day})
	if errors.Is(err, db.ErrNotFound) {
		return dbq.Transfer{}, errs.New(errs.TransferNotOpen, "transfer %d is %s", t.ID, t.Status), nil
	}
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	return c, nil, event(ctx, q, c, Cancelled, day, nil, 0)
}
