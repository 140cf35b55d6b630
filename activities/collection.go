package activities

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// History rows of a collection stop: the auto-debit's at Seq…Seq+2, the
// stop's own from Seq+3, within the step's SeqBlock.
const collectRowsFrom = 3

// Collect takes the steps of one date of the collection schedule
// (workflows.Collection, docs/collection.md), in order:
//   - auto_debit: the due-date auto-debit, or a ladder step's retry, under the
//     repayment authorization;
//   - mark_overdue: every installment past its due date is overdue and its
//     penalty interest is brought up to the date (docs/rules.md "Penalty interest");
//   - m1: an overdue notice to the borrower, m2: an ops collection task,
//     m3: compensation, write_off_request: ops are asked to write the loan off.
//
// The ladder steps are about the stop's installment: when the auto-debit
// closes it, they are moot and not taken (the next installment's ladder goes on
// from the workflow's cursor). A notice to the borrower is delivered inside
// contact hours (08:00–20:00 platform time): it is stamped with when it may
// reach them, rather than the whole step waiting for morning.
func (a *Activities) Collect(ctx context.Context, in CollectInput) (CollectResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	var out CollectResult
	if slices.Contains(in.Steps, lending.StepAutoDebit) {
		res, err := a.repay(ctx, in.LoanID, in.Seq, lending.RepayAuto, in.Attempt, in.On)
		if err != nil {
			return out, classify(err)
		}
		out.Repay = res
		if res.Finished {
			out.Status = res.Status
			return out, nil
		}
		if !res.Paid {
			if err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
				return a.debitFailed(ctx, q, in, res)
			}); err != nil {
				return out, classify(err)
			}
		}
	}
	closed := out.Repay.Paid && out.Repay.Through >= in.Installment
	if !closed && slices.Contains(in.Steps, lending.StepM3) {
		if err := a.compensate(ctx, in); err != nil {
			return out, classify(err)
		}
	}
	err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		r := newRows(q, in.LoanID, in.Seq+collectRowsFrom, in.On)
		if slices.Contains(in.Steps, lending.StepMarkOverdue) {
			marked, err := markOverdue(ctx, q, in)
			if err != nil {
				return err
			}
			if marked > 0 && loan.Status == lending.StatusRepaying {
				if err := r.move(ctx, []lending.Status{lending.StatusRepaying}, lending.StatusOverdue,
					"installment %d unpaid after its due date", marked); err != nil {
					return err
				}
				loan.Status = lending.StatusOverdue
			}
		}
		out.Status = loan.Status
		if closed {
			return nil
		}
		for _, step := range in.Steps {
			if err := a.ladderStep(ctx, q, r, loan, in, step); err != nil {
				return err
			}
		}
		return nil
	})
	return out, classify(err)
}

// debitFailed records an auto-debit not made and tells the borrower.
func (a *Activities) debitFailed(ctx context.Context, q *dbq.Queries, in CollectInput, res RepayResult) error {
	loan, err := q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return err
	}
	if err := newRows(q, in.LoanID, in.Seq, in.On).add(ctx, loan.Status, "auto-debit of installment %d not made: %s", in.Installment, res.Detail); err != nil {
		return err
	}
	amount := res.Amount
	return notify(ctx, q, notice{
		UserID: loan.BorrowerID, Kind: lending.NoticeRepaymentFailed, LoanID: loan.ID, Installment: in.Installment, Amount: &amount,
		On: in.On, At: a.contactAt(in.On),
		Dedupe:  fmt.Sprintf("loan-%d-repay-%d-failed", loan.ID, in.Attempt),
		Message: fmt.Sprintf("Loan %d: the auto-debit of installment %d (%s) was not made: %s.", loan.ID, in.Installment, amount.StringFixed(2), res.Detail),
	})
}

// markOverdue marks every open installment past its due date overdue and
// brings its penalty up to the stop's date; it answers the highest one marked.
func markOverdue(ctx context.Context, q *dbq.Queries, in CollectInput) (int, error) {
	insts, err := claims.Load(ctx, q, in.LoanID)
	if err != nil {
		return 0, err
	}
	marked := 0
	for _, i := range insts {
		if i.DueDate.Before(in.On) {
			i.Accrue(in.On)
			i.Status = lending.InstallmentOverdue
			marked = int(i.No)
		}
	}
	return marked, claims.Save(ctx, q, in.LoanID, insts)
}

// ladderStep takes one contact, task, compensation or write-off step.
func (a *Activities) ladderStep(ctx context.Context, q *dbq.Queries, r *rows, loan dbq.Loan, in CollectInput, step lending.Step) error {
	switch step {
	case lending.StepM1:
		if err := r.add(ctx, loan.Status, "collection: M1 overdue notice (DPD %d)", in.DPD); err != nil {
			return err
		}
		return notify(ctx, q, notice{
			UserID: loan.BorrowerID, Kind: lending.NoticeOverdue, LoanID: loan.ID, Installment: in.Installment,
			On: in.On, At: a.contactAt(in.On),
			Dedupe:  fmt.Sprintf("loan-%d-installment-%d-m1-dpd-%d", loan.ID, in.Installment, in.DPD),
			Message: fmt.Sprintf("Loan %d: installment %d is %d days overdue; penalty interest accrues daily. Please repay.", loan.ID, in.Installment, in.DPD),
		})
	case lending.StepM2:
		return r.add(ctx, loan.Status, "collection: M2 ops collection task opened (DPD %d)", in.DPD)
	case lending.StepM3:
		return r.add(ctx, loan.Status, "collection: M3 compensation due (DPD %d)", in.DPD) // the money: compensate
	case lending.StepWriteOffAsk:
		return r.add(ctx, loan.Status, "more than 90 days past due: ops asked to write off (DPD %d)", in.DPD)
	}
	return nil
}
