package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// compensationPlan is what an M3 compensation applies once the bank has made
// its batch.
type compensationPlan struct {
	Holder       string // guarantor | reserve
	GuarantorID  int64
	Amount       decimal.Decimal
	Owed         decimal.Decimal // what the investors were owed of the overdue installments
	Installments []*claims.Installment
	Received     map[int64]decimal.Decimal // per investor
	Entry        ledger.Entry
}

// compensationRows: an M3 step's compensation writes its history row here,
// within the stop's SeqBlock, after the stop's own rows.
const compensationRows = 8

// compensate is the M3 step's money (docs/rules.md "compensation"): for every
// overdue installment the investors are paid its unpaid principal + interest
// + penalty accrued to the day — by the guarantor, all of it or what its
// available balance covers, or with no guarantor by the risk-reserve account
// while it lasts, never below zero — in one bank batch, by the waterfall
// (oldest installment first; penalty, interest, principal; each part pro rata
// to what each investor is owed of it). The compensator then holds those
// claims: it is owed what it paid, the borrower's later payments of it go to
// it, and penalty on the compensated part accrues for it from then on.
func (a *Activities) compensate(ctx context.Context, in CollectInput) error {
	reqNo := bank.RequestNo("loan", in.LoanID, "compensate", in.Seq)
	outcome, plan, res, code, err := sendBatch(ctx, a, reqNo, "compensation", func() (bank.BatchRequest, compensationPlan, bool, error) {
		return a.planCompensation(ctx, in, reqNo)
	})
	if err != nil {
		return err
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		r := newRows(q, in.LoanID, in.Seq+compensationRows, in.On)
		who := "the risk reserve"
		if plan.Holder == claims.Guarantor {
			who = "the guarantor"
		}
		switch outcome {
		case outcomeApplied:
			return nil
		case outcomeDeclined:
			return r.add(ctx, loan.Status, "collection: M3 compensation not made: %s had nothing to pay with (owed %s)", who, plan.Owed.StringFixed(2))
		case outcomeRefused:
			if err := settle(ctx, q, reqNo, "compensation", false, code); err != nil {
				return err
			}
			return r.add(ctx, loan.Status, "collection: M3 compensation by %s refused by the bank (%s)", who, code)
		}
		plan.Entry.BusinessDate = res.Day(in.On)
		if _, err := ledger.Post(ctx, tx, plan.Entry); err != nil {
			return err
		}
		if err := claims.Save(ctx, q, in.LoanID, plan.Installments); err != nil {
			return err
		}
		// An investor compensated an installment's interest in full has
		// received it: its coupon's bonus is due (docs/coupons.md).
		if err := coupons.Earned(ctx, q, in.LoanID, in.On); err != nil {
			return err
		}
		var user *int64
		if plan.Holder == claims.Guarantor {
			user = &plan.GuarantorID
		}
		if err := q.CompensationInsert(ctx, dbq.CompensationInsertParams{RequestNo: reqNo, LoanID: in.LoanID, Holder: plan.Holder,
			UserID: user, Amount: plan.Amount, BusinessDate: in.On}); err != nil {
			return err
		}
		if err := r.add(ctx, loan.Status, "collection: M3 %s compensated the investors %s of %s owed (DPD %d)",
			who, plan.Amount.StringFixed(2), plan.Owed.StringFixed(2), in.DPD); err != nil {
			return err
		}
		if plan.Holder == claims.Guarantor {
			amount := plan.Amount
			if err := notify(ctx, q, notice{UserID: plan.GuarantorID, Kind: lending.NoticeCompensationPaid, LoanID: in.LoanID,
				Amount: &amount, On: in.On, At: a.stamp(in.On), Dedupe: reqNo + "-paid",
				Message: fmt.Sprintf("Loan %d: as its guarantor you paid the investors %s; the borrower now owes it to you.", in.LoanID, amount.StringFixed(2)),
			}); err != nil {
				return err
			}
		}
		if err := a.notifyHolders(ctx, q, in.LoanID, plan.Received, lending.NoticeCompensationReceived, reqNo, in.On,
			"Loan %d is 61 days past due; you were compensated %s."); err != nil {
			return err
		}
		return settle(ctx, q, reqNo, "compensation", true, plan)
	})
	if err != nil {
		return err
	}
	return a.payBonuses(ctx, in.LoanID, in.On)
}

func (a *Activities) planCompensation(ctx context.Context, in CollectInput, reqNo string) (bank.BatchRequest, compensationPlan, bool, error) {
	var plan compensationPlan
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	insts, err := claims.Load(ctx, a.q, in.LoanID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	var overdue []*claims.Installment
	for _, i := range insts {
		i.Accrue(in.On)
		if i.DueDate.Before(in.On) {
			overdue = append(overdue, i)
		}
	}
	plan.Owed = claims.Owed(overdue, claims.Investors)

	var payer, payerLedger string
	var available decimal.Decimal
	if loan.GuarantorID != nil {
		plan.Holder, plan.GuarantorID = claims.Guarantor, *loan.GuarantorID
		accounts, err := a.accountNos(ctx, []int64{plan.GuarantorID})
		if err != nil {
			return bank.BatchRequest{}, plan, false, err
		}
		payer, payerLedger = accounts[plan.GuarantorID], ledger.UserAvailable(plan.GuarantorID)
		sum, err := ledger.AccountSummary(ctx, a.pool, plan.GuarantorID)
		if err != nil {
			return bank.BatchRequest{}, plan, false, err
		}
		available = sum.Available
	} else {
		plan.Holder, payer, payerLedger = claims.Reserve, bank.AccountRiskReserve, ledger.PlatformRiskReserve
		if available, err = a.q.LedgerBalanceByCode(ctx, ledger.PlatformRiskReserve); err != nil {
			return bank.BatchRequest{}, plan, false, err
		}
	}
	plan.Amount = decimal.Min(available, plan.Owed)
	if plan.Amount.Sign() <= 0 {
		return bank.BatchRequest{}, plan, false, nil
	}
	receipts, _ := claims.Waterfall(plan.Amount, overdue, claims.Investors)
	claims.Receive(insts, receipts)
	claims.Compensate(insts, receipts, plan.Holder, plan.GuarantorID, payer)
	ts, postings, perUser := claims.Transfers(insts, receipts, payer, false)
	plan.Installments, plan.Received = insts, perUser
	plan.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeCompensation, Ref: loanRef(loan.ID),
		Postings: append([]ledger.Posting{{Account: payerLedger, Amount: plan.Amount.Neg(), Counterpart: "investors"}}, postings...)}
	for i := range plan.Entry.Postings[1:] {
		plan.Entry.Postings[i+1].Counterpart = plan.Holder
	}
	return bank.BatchRequest{RequestNo: reqNo, Purpose: "compensation", Transfers: ts}, plan, true, nil
}

// stamp is when a notice to someone other than a borrower in collection
// reaches them: now in wall mode; in sandbox mode inside the business date.
func (a *Activities) stamp(day time.Time) time.Time {
	if !a.wall {
		return lending.ContactAt(day)
	}
	return a.now()
}
