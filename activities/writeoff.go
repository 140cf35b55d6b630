package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// WriteOff closes the loan's outstanding receivables as loss (核销) after ops
// approve: every open claim's unpaid principal, interest and penalty to the
// day is recorded as what its holder lost (claims.Losses: investors, the
// guarantor, the reserve), which is what later recoveries are distributed
// by; the installments close as written off and their reminders are withdrawn.
func (a *Activities) WriteOff(ctx context.Context, in WriteOffInput) error {
	return classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		if loan.Status != lending.StatusWrittenOff {
			if err := a.recordLosses(ctx, q, loan, in.Today); err != nil {
				return err
			}
			if err := q.InstallmentWriteOff(ctx, in.LoanID); err != nil {
				return err
			}
			// The interest coupons' bonuses still to come lapse (docs/coupons.md).
			if err := coupons.WrittenOff(ctx, q, in.LoanID); err != nil {
				return err
			}
			last := int32(loan.TermMonths)
			if err := q.NotificationWithdrawReminders(ctx, dbq.NotificationWithdrawRemindersParams{BorrowerID: loan.BorrowerID, LoanID: &in.LoanID, ClosedThrough: &last, Today: in.Today}); err != nil {
				return err
			}
		}
		if err := newRows(q, in.LoanID, in.Seq, in.Today).move(ctx, []lending.Status{lending.StatusOverdue}, lending.StatusWrittenOff, "%s", in.Note); err != nil {
			return err
		}
		return publish(ctx, q, in.LoanID, in.Seq, nil)
	}))
}

// recordLosses writes what each holder loses and tells each.
func (a *Activities) recordLosses(ctx context.Context, q *dbq.Queries, loan dbq.Loan, day time.Time) error {
	insts, err := claims.Load(ctx, q, loan.ID)
	if err != nil {
		return err
	}
	losses := claims.Losses(insts, day)
	if err := claims.Save(ctx, q, loan.ID, insts); err != nil {
		return err
	}
	lost := map[int64]decimal.Decimal{}
	for _, l := range losses {
		var user, bid *int64
		if l.Claim.UserID != 0 {
			u := l.Claim.UserID
			user = &u
			lost[u] = lost[u].Add(l.Amount)
		}
		if l.Claim.BidID != 0 {
			b := l.Claim.BidID
			bid = &b
		}
		if err := q.WriteOffLossInsert(ctx, dbq.WriteOffLossInsertParams{LoanID: loan.ID, HolderKey: l.Claim.Key(), Holder: l.Claim.Holder,
			UserID: user, BidID: bid, Amount: l.Amount}); err != nil {
			return err
		}
	}
	reqNo := fmt.Sprintf("loan-%d-write-off", loan.ID)
	if err := notify(ctx, q, notice{UserID: loan.BorrowerID, Kind: lending.NoticeWrittenOff, LoanID: loan.ID, On: day, At: a.contactAt(day),
		Dedupe: reqNo + "-borrower", Message: fmt.Sprintf("Loan %d has been written off; what you owe is still owed and will be collected.", loan.ID)}); err != nil {
		return err
	}
	return a.notifyHolders(ctx, q, loan.ID, lost, lending.NoticeWrittenOff, reqNo, day,
		"Loan %d was written off: %s of your claim is closed as a loss; anything recovered later is paid to you pro rata.")
}
