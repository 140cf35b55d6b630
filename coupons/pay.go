package coupons

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// PayDue pays every due payment of the loan from the bonus account, each
// under its own request number, fixed when it was earned: a retry (the step
// retried after a crash, ops' retry) sends the same number, so the bank pays
// it once and answers the first result. Paid, the ledger's bonus entry
// (ledger.TypeBonus, what the daily report's bonus_paid sums), the payment
// and the coupon_paid notice are written in one transaction on the bank's
// day. Refused (the bonus account cannot pay), the payment is failed and
// becomes an ops task, and its investor is told: a refusal stops nobody's
// repayment, so PayDue answers nil for it. Only an unknown outcome (the bank
// did not answer) is an error, and the caller tries again.
func PayDue(ctx context.Context, pool *pgxpool.Pool, bc bank.Client, loanID int64, today time.Time, log *slog.Logger) error {
	rows, err := db.Queries(pool).CouponPaymentsDue(ctx, loanID)
	if err != nil {
		return err
	}
	for _, p := range rows {
		if err := pay(ctx, pool, bc, dbq.CouponPaymentGetRow(p), today, log); err != nil {
			return err
		}
	}
	return nil
}

func pay(ctx context.Context, pool *pgxpool.Pool, bc bank.Client, p dbq.CouponPaymentGetRow, today time.Time, log *slog.Logger) error {
	if p.CustodyAccountNo == nil || p.RequestNo == nil {
		return fmt.Errorf("coupons: payment %d has no account or request number", p.ID)
	}
	reqNo := *p.RequestNo
	res, err := bc.Transfer(ctx, bank.TransferRequest{RequestNo: reqNo, Purpose: ledger.TypeBonus,
		Transfer: bank.Transfer{From: bank.AccountBonus, To: *p.CustodyAccountNo, Amount: p.Amount}})
	ok, code, err := bank.Outcome(res, err)
	if err != nil {
		return err
	}
	what := "the cash coupon"
	if p.InstallmentNo > 0 {
		what = fmt.Sprintf("the interest coupon's bonus of installment %d", p.InstallmentNo)
	}
	if !ok {
		if log != nil {
			log.Warn("coupons: the bank refused a bonus payment; it waits for ops", "payment", p.ID, "request_no", reqNo, "code", code)
		}
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			q := db.Queries(tx)
			n, err := q.CouponPaymentFailed(ctx, dbq.CouponPaymentFailedParams{ID: p.ID, FailureCode: &code})
			if err != nil || n == 0 {
				return err
			}
			c, err := q.CouponGet(ctx, p.CouponID)
			if err != nil {
				return err
			}
			d := dataOf(From(c))
			inst := int(p.InstallmentNo)
			d.PaymentID, d.Installment, d.PaymentAmount, d.RequestNo, d.Code = p.ID, &inst, p.Amount.StringFixed(2), reqNo, code
			if err := write(ctx, q, EventPaymentFailed, today, p.LoanID, p.UserID, d); err != nil {
				return err
			}
			amount := p.Amount
			return contact.Write(ctx, q, contact.Notice{UserID: p.UserID, Kind: lending.NoticeBonusPaymentFailed, LoanID: p.LoanID,
				Installment: int(p.InstallmentNo), Amount: &amount, On: today, Dedupe: reqNo + "-failed",
				Message: fmt.Sprintf("Loan %d: %s, %s, could not be paid yet (%s); ops will pay it.", p.LoanID, what,
					amount.StringFixed(2), code)})
		})
	}
	day := res.Day(today)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		e := ledger.Transfer(reqNo, 0, ledger.TypeBonus, ledger.PlatformBonus, ledger.UserAvailable(p.UserID), p.Amount,
			fmt.Sprintf("coupon:%d", p.CouponID), day)
		e.LoanID = p.LoanID
		if _, err := ledger.Post(ctx, tx, e); err != nil {
			return err
		}
		n, err := q.CouponPaymentPaid(ctx, dbq.CouponPaymentPaidParams{ID: p.ID, PaidOn: &day})
		if err != nil || n == 0 {
			return err
		}
		amount := p.Amount
		return contact.Write(ctx, q, contact.Notice{UserID: p.UserID, Kind: lending.NoticeCouponPaid, LoanID: p.LoanID,
			Installment: int(p.InstallmentNo), Amount: &amount, On: day, Dedupe: reqNo + "-paid",
			Message: fmt.Sprintf("Loan %d: %s, %s, is paid to your account.", p.LoanID, what, amount.StringFixed(2))})
	})
}
