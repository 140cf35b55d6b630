package bidding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// Release returns one frozen bid's money to the investor's available
// balance: the bank unfreezes it under the bid's own unfreeze number, and the
// ledger and the bid follow in one transaction. It is safe to repeat: the bank
// answers a repeated number with its first result, and a bid released already
// stays so. A listing that closes (expired, cancelled, review rejected)
// releases every frozen bid (activities.Close), and the bid path releases a
// freeze that completed after its listing closed.
func Release(ctx context.Context, pool *pgxpool.Pool, bc bank.Client, b dbq.Bid, today time.Time) error {
	reqNo := bank.BidUnfreeze(b.ID)
	res, err := bc.Unfreeze(ctx, bank.UnfreezeRequest{RequestNo: reqNo, FreezeRequestNo: bank.BidFreeze(b.ID)})
	ok, code, err := bank.Outcome(res, err)
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.Conflict, "bank refused to release bid %d: %s", b.ID, code)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		// The bank's day, not the platform's: an unfreeze retried after the
		// bank's day turned is in the next day's file.
		e := ledger.Unfreeze(reqNo, b.InvestorID, b.Amount, "bid:"+itoa(b.ID), res.Day(today))
		e.LoanID = b.LoanID
		if _, err := ledger.Post(ctx, tx, e); err != nil {
			return err
		}
		_, err := q.BidSetStatus(ctx, dbq.BidSetStatusParams{ToStatus: lending.BidReleased, ID: b.ID,
			FromStatuses: lending.Strings(lending.BidFrozen, lending.BidPending)})
		if errors.Is(err, db.ErrNotFound) {
			return nil // released by an earlier attempt
		}
		if err != nil {
			return err
		}
		// The loan never disbursed: the bid's coupon is unused again.
		if err := coupons.Release(ctx, q, b.ID, b.LoanID, res.Day(today)); err != nil {
			return err
		}
		return contact.Write(ctx, q, contact.Notice{UserID: b.InvestorID, Kind: lending.NoticeBidReleased, LoanID: b.LoanID,
			Amount: &b.Amount, On: res.Day(today), Dedupe: reqNo + "-released",
			Message: fmt.Sprintf("Loan %d's listing closed (expired, cancelled or not approved): your bid %d of %s is unfrozen and back in your available balance.",
				b.LoanID, b.ID, b.Amount.StringFixed(2))})
	})
}
