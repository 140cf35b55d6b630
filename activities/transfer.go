package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/transfer"
)

// The loan workflow's debt-transfer steps (docs/transfer.md): the rules and
// the booking are package transfer's; each step here is one transaction
// with its history row and the loan's next dated step, and the purchase one
// bank step. A refusal is a result (Code, Detail), not an error: it moved
// nothing and the loan goes on.

// OfferTransfer lists a holding's claim for sale (transfer.List).
func (a *Activities) OfferTransfer(ctx context.Context, in OfferTransferInput) (TransferResult, error) {
	var out TransferResult
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		t, no, err := transfer.List(ctx, q, transfer.OfferStep{LoanID: in.LoanID, Seq: in.Seq, HoldingID: in.HoldingID,
			SellerID: in.SellerID, Discount: in.Discount, Day: in.Today})
		if err != nil || no != nil {
			out.refused(no)
			return err
		}
		out.TransferID = t.ID
		if err := transferRow(ctx, q, in.LoanID, in.Seq, in.Today, "transfer %d: investor %d listed the claim of bid %d (holding %d) at a %s%% discount, open until %s",
			t.ID, t.SellerID, t.BidID, t.HoldingID, t.DiscountRate.Shift(2).StringFixed(2), dateOnly(t.ExpiresOn.AddDate(0, 0, -1))); err != nil {
			return err
		}
		return publish(ctx, q, in.LoanID, in.Seq, in.Next)
	})
	return out, classify(err)
}

// BuyTransfer carries out a purchase (transfer.PlanSale, transfer.BookSale):
// planned and stored before the bank is asked, one bank batch under the
// purchase's request number, booked once the bank has made it. Refused —
// by the rules on the day, the buyer's balance, or the bank — it moved
// nothing and the listing is open again (transfer.Unwin).
func (a *Activities) BuyTransfer(ctx context.Context, in BuyTransferInput) (TransferResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	out := TransferResult{TransferID: in.TransferID}
	reqNo := transfer.RequestNo(in.TransferID, in.Attempt)
	var no *errs.Error
	outcome, sale, res, code, err := sendBatch(ctx, a, reqNo, "transfer", func() (bank.BatchRequest, transfer.Sale, bool, error) {
		batch, sale, refusal, err := transfer.PlanSale(ctx, a.q, a.pool, transfer.Purchase{TransferID: in.TransferID,
			Attempt: in.Attempt, BuyerID: in.BuyerID, Price: in.Price, Day: in.Today})
		no = refusal
		return batch, sale, err == nil && refusal == nil, err
	})
	if err != nil {
		return out, classify(err)
	}
	switch outcome {
	case outcomeApplied:
		out.sold(sale)
		t, err := a.q.TransferGet(ctx, in.TransferID)
		if err == nil && t.BuyerHoldingID != nil {
			out.HoldingID = *t.BuyerHoldingID
		}
		return out, classify(err)
	case outcomeDeclined:
		out.refused(no)
		return out, classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
			return transfer.Unwin(ctx, q, in.TransferID, in.Attempt, no.Code)
		}))
	case outcomeRefused:
		out.Code, out.Detail = errs.Conflict, "the bank refused the purchase: "+code
		if code == bank.CodeInsufficientBalance {
			out.Code = errs.InsufficientBalance
		}
		return out, classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
			if err := settle(ctx, q, reqNo, "transfer", false, code); err != nil {
				return err
			}
			if err := transfer.Unwin(ctx, q, in.TransferID, in.Attempt, out.Code); err != nil {
				return err
			}
			return transferRow(ctx, q, in.LoanID, in.Seq, in.Today, "transfer %d: the bank refused investor %d's purchase (%s); listed again",
				in.TransferID, in.BuyerID, code)
		}))
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		bought, err := transfer.BookSale(ctx, q, tx, sale, res.Day(in.Today), a.stamp(in.Today))
		if err != nil {
			return err
		}
		out.HoldingID = bought.ID
		qt := sale.Quote
		if err := transferRow(ctx, q, in.LoanID, in.Seq, in.Today,
			"transfer %d: investor %d sold the claim of bid %d to investor %d for %s (principal %s, accrued interest %s; fee %s, held %d days)",
			sale.TransferID, sale.SellerID, sale.BidID, sale.BuyerID, qt.Price.StringFixed(2), qt.Principal.StringFixed(2),
			qt.Accrued.StringFixed(2), qt.Fee.StringFixed(2), qt.HoldingDays); err != nil {
			return err
		}
		if err := publish(ctx, q, in.LoanID, in.Seq, in.Next); err != nil {
			return err
		}
		return settle(ctx, q, reqNo, "transfer", true, sale)
	})
	out.sold(sale)
	return out, classify(err)
}

// CancelTransfer closes a listing at its seller's request (transfer.Cancel).
func (a *Activities) CancelTransfer(ctx context.Context, in CancelTransferInput) (TransferResult, error) {
	out := TransferResult{TransferID: in.TransferID}
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		t, no, err := transfer.Cancel(ctx, q, in.TransferID, in.SellerID, in.Today)
		if err != nil || no != nil {
			out.refused(no)
			return err
		}
		if err := transferRow(ctx, q, in.LoanID, in.Seq, in.Today, "transfer %d: cancelled by its seller, investor %d", t.ID, t.SellerID); err != nil {
			return err
		}
		return publish(ctx, q, in.LoanID, in.Seq, in.Next)
	})
	return out, classify(err)
}

// LapseTransfers closes every open listing of the loan (transfer.Lapse):
// at the blackout before a due date, or when a repayment or the loan's
// status has changed the claims listed.
func (a *Activities) LapseTransfers(ctx context.Context, in LapseTransfersInput) (TransferResult, error) {
	var out TransferResult
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		lapsed, err := transfer.Lapse(ctx, q, in.LoanID, in.Today, in.Reason, a.stamp(in.Today))
		if err != nil {
			return err
		}
		out.Lapsed = nil
		for _, t := range lapsed {
			out.Lapsed = append(out.Lapsed, t.ID)
		}
		if len(lapsed) > 0 {
			if err := transferRow(ctx, q, in.LoanID, in.Seq, in.Today, "transfer listings %v lapsed unsold: %s", out.Lapsed, in.Reason); err != nil {
				return err
			}
		}
		return publish(ctx, q, in.LoanID, in.Seq, in.Next)
	})
	return out, classify(err)
}

// transferRow writes a transfer step's history row, at the loan's status.
func transferRow(ctx context.Context, q *dbq.Queries, loanID int64, seq int, on time.Time, format string, args ...any) error {
	loan, err := q.LoanGetForUpdate(ctx, loanID)
	if err != nil {
		return err
	}
	return history(ctx, q, loanID, seq, loan.Status, on, fmt.Sprintf(format, args...))
}

func (r *TransferResult) refused(no *errs.Error) {
	if no != nil {
		r.Code, r.Detail = no.Code, no.Detail
	}
}

func (r *TransferResult) sold(s transfer.Sale) {
	r.Price, r.Fee = s.Quote.Price, s.Quote.Fee
}
