package coupons

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/money"
)

// A coupon's life follows its loan's (docs/rules.md "Coupons"). Each function
// here runs inside the transaction of the loan's step it belongs to, so the
// coupon moves with the bid, the installments and the claims, never apart.

// From is a coupon row as the rules see it.
func From(c dbq.Coupon) Coupon {
	out := Coupon{ID: c.ID, UserID: c.UserID, Kind: Kind(c.Kind), MinBid: c.MinBid, ExpiresOn: c.ExpiresOn, Most: c.Most,
		Note: c.Note, Status: Status(c.Status), BidID: c.BidID, LoanID: c.LoanID, Paid: decimal.Zero, GrantedOn: c.GrantedOn}
	if c.Amount != nil {
		out.Amount = *c.Amount
	}
	if c.ExtraRate != nil {
		out.ExtraRate = *c.ExtraRate
	}
	if c.Months != nil {
		out.Months = int(*c.Months)
	}
	return out
}

// Reserve attaches the investor's coupon to their bid bidID on loanID, in
// the transaction that admits the bid, once Usable passed: the guarded
// update takes it only while it is unused and unexpired, so a coupon goes
// with one bid at most however bids race.
func Reserve(ctx context.Context, q *dbq.Queries, couponID, bidID, loanID, investorID int64, today time.Time) error {
	c, err := q.CouponReserve(ctx, dbq.CouponReserveParams{ID: couponID, BidID: &bidID, LoanID: &loanID, UserID: investorID, Today: today})
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("coupons: coupon %d was taken while bid %d was admitted", couponID, bidID)
	}
	if err != nil {
		return err
	}
	return event(ctx, q, c, EventReserved, today, loanID)
}

// Release makes the coupon of bid unused again, on day: its loan (loanID)
// never disbursed (expired, cancelled, rejected at review) or its freeze was
// refused. In the transaction that releases the bid; a coupon already unused
// stays so.
func Release(ctx context.Context, q *dbq.Queries, bidID, loanID int64, day time.Time) error {
	rows, err := q.CouponRelease(ctx, &bidID)
	if err != nil {
		return err
	}
	for _, c := range rows {
		if err := event(ctx, q, c, EventReleased, day, loanID); err != nil {
			return err
		}
	}
	return nil
}

// Claim is one bid's claim as the disbursement plans it: Principal[k] is its
// principal share of installment k+1.
type Claim struct {
	BidID, InvestorID int64
	Amount            decimal.Decimal
	Principal         []decimal.Decimal
}

// Disbursed uses the coupons of a loan's bids, in the disbursement's
// transaction: a cash coupon's face is due now (paid by PayDue once the step
// commits); an interest coupon's bonus of every installment is planned, the
// pending receivable the seed calls 加息记录, by Bonuses on the claim's
// principal shares.
func Disbursed(ctx context.Context, q *dbq.Queries, loanID int64, method money.Method, termMonths int,
	claims []Claim, dueDates []time.Time, today time.Time) error {
	rows, err := q.CouponListReservedByLoan(ctx, &loanID)
	if err != nil {
		return err
	}
	byBid := make(map[int64]Claim, len(claims))
	for _, c := range claims {
		byBid[c.BidID] = c
	}
	for _, row := range rows {
		c := From(row)
		claim, ok := byBid[*c.BidID]
		if !ok {
			return fmt.Errorf("coupons: coupon %d's bid %d is not among loan %d's claims", c.ID, *c.BidID, loanID)
		}
		used, err := q.CouponSetUsed(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, u := range used {
			if err := event(ctx, q, u, EventUsed, today, loanID); err != nil {
				return err
			}
		}
		if c.Kind == Cash {
			if err := plan(ctx, q, c, loanID, 0, c.Amount, today); err != nil {
				return err
			}
			continue
		}
		bonuses := Bonuses(claim.Amount, claim.Principal, c.ExtraRate, c.Months, method, termMonths)
		for k, b := range bonuses {
			if b.Sign() > 0 {
				if err := plan(ctx, q, c, loanID, k+1, b, dueDates[k]); err != nil {
					return err
				}
			}
		}
	}
	return earn(ctx, q, loanID, 0, today)
}

func plan(ctx context.Context, q *dbq.Queries, c Coupon, loanID int64, inst int, amount decimal.Decimal, on time.Time) error {
	return q.CouponPaymentPlan(ctx, dbq.CouponPaymentPlanParams{CouponID: c.ID, LoanID: loanID, BidID: *c.BidID, UserID: c.UserID,
		InstallmentNo: int32(inst), Amount: amount, DueOn: &on})
}

// Earned marks due, in the step that paid the claim holders, every planned
// bonus of the loan whose installment interest the coupon's holder has now
// received in full (its share of it, on the claim still its own): the
// repayment, or the compensation, that paid it. Its bank request number is
// fixed here, from (loan, installment, coupon) and the attempt, before the
// bank is asked (PayDue).
func Earned(ctx context.Context, q *dbq.Queries, loanID int64, today time.Time) error {
	rows, err := q.CouponPaymentEarnable(ctx, loanID)
	if err != nil {
		return err
	}
	for _, p := range rows {
		if p.Amount.Sign() == 0 {
			if err := q.CouponPaymentLapse(ctx, p.ID); err != nil {
				return err
			}
			continue
		}
		if err := due(ctx, q, p, today); err != nil {
			return err
		}
	}
	return nil
}

// earn marks due the planned payments of installment inst (0: the cash
// coupons at the disbursement).
func earn(ctx context.Context, q *dbq.Queries, loanID int64, inst int32, today time.Time) error {
	rows, err := q.CouponPaymentsPlannedByLoan(ctx, loanID)
	if err != nil {
		return err
	}
	for _, p := range rows {
		if p.InstallmentNo == inst {
			if err := due(ctx, q, p, today); err != nil {
				return err
			}
		}
	}
	return nil
}

func due(ctx context.Context, q *dbq.Queries, p dbq.CouponPayment, today time.Time) error {
	reqNo := bank.BonusPayment(p.LoanID, int(p.InstallmentNo), p.CouponID, int(p.Attempt))
	return q.CouponPaymentDue(ctx, dbq.CouponPaymentDueParams{ID: p.ID, RequestNo: &reqNo, DueOn: &today})
}

// PaidOff re-plans the bonuses of a loan paid off early (提前还款), in the
// payoff's transaction and before Earned: the current installment's bonus is
// accrued by days exactly as the payoff's interest is (money.AccruedInterest
// over the period from periodStart to its due date), and every later one
// lapses.
func PaidOff(ctx context.Context, q *dbq.Queries, loanID int64, current int32, periodStart, periodEnd, today time.Time) error {
	rows, err := q.CouponPaymentsPlannedByLoan(ctx, loanID)
	if err != nil {
		return err
	}
	for _, p := range rows {
		switch {
		case p.InstallmentNo == current:
			accrued := money.AccruedInterest(p.Amount, periodStart, periodEnd, today)
			if err := q.CouponPaymentSetAmount(ctx, dbq.CouponPaymentSetAmountParams{ID: p.ID, Amount: accrued}); err != nil {
				return err
			}
		case p.InstallmentNo > current:
			if err := q.CouponPaymentLapse(ctx, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// WrittenOff lapses every bonus of the loan still to come, in the
// write-off's transaction.
func WrittenOff(ctx context.Context, q *dbq.Queries, loanID int64) error {
	_, err := q.CouponPaymentLapseByLoan(ctx, loanID)
	return err
}

// Sold lapses the bonuses still to come on the claim of bidID, in the sale's
// transaction: the coupon stays with the investor who used it and is never
// paid to a buyer.
func Sold(ctx context.Context, q *dbq.Queries, bidID int64) error {
	_, err := q.CouponPaymentLapseByBid(ctx, bidID)
	return err
}

// Expire marks expired every unused coupon whose last day is before today,
// as the business clock reaches today.
func Expire(ctx context.Context, q *dbq.Queries, today time.Time) (int64, error) {
	rows, err := q.CouponExpire(ctx, today)
	if err != nil {
		return 0, err
	}
	for _, c := range rows {
		if err := event(ctx, q, c, EventExpired, today, 0); err != nil {
			return 0, err
		}
	}
	return int64(len(rows)), nil
}

// PendingBonusAt is the bonus a user's coupons were still expected to pay
// (ledger.Summary's PendingBonus, now) as it stood at a moment of the books: at a
// journal entry's `at` (its transaction's time, as the coupon payments'
// times are), so a fund-log row can show the holder's bonus still to come
// after it. The disbursement's entry raises it by the bonuses planned then
// (the boost record, 加息记录); each bonus's own entry lowers it by what was
// paid; a payoff's entry brings it to the accrued part of the current bonus,
// and the entry that lapses the rest (the payoff, the sale) drops them.
func PendingBonusAt(ctx context.Context, q *dbq.Queries, userID int64, at time.Time) (decimal.Decimal, error) {
	return q.CouponPendingBonusAt(ctx, dbq.CouponPendingBonusAtParams{UserID: userID, At: at})
}
