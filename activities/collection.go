package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

var stepNotes = map[string]string{
	"reminder":          "repayment reminder sent (due in 3 days)",
	"m1":                "M1 reminder sent",
	"m2":                "M2: ops collection task opened",
	"m3":                "M3: compensation due — guarantor or risk reserve (not yet automated; ops handle it by hand)",
	"write_off_request": "more than 90 days past due: ops asked to write off",
}

// contactSteps are the steps that reach the borrower and so keep to contact hours.
var contactSteps = map[string]bool{"reminder": true, "m1": true}

// Collect performs one collection step and records it on the loan's history.
// In wall-clock mode a contact step outside 08:00–20:00 Asia/Shanghai is put
// off to 08:00 by a retry delay rather than sent at night.
func (a *Activities) Collect(ctx context.Context, in CollectInput) error {
	note, ok := stepNotes[in.Step]
	if !ok {
		return classify(errs.New(errs.ValidationFailed, "unknown collection step %q", in.Step))
	}
	if a.wall && contactSteps[in.Step] {
		if wait := lending.UntilContactHours(a.now()); wait > 0 {
			return temporal.NewApplicationErrorWithOptions("outside collection contact hours", "quiet_hours",
				temporal.ApplicationErrorOptions{NextRetryDelay: wait})
		}
	}
	if in.DPD > 0 {
		note = fmt.Sprintf("%s (DPD %d)", note, in.DPD)
	}
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return classify(err)
	}
	return classify(history(ctx, a.q, in.LoanID, in.Seq, loan.Status, in.Today, "collection: "+note))
}

// MarkOverdue marks every installment past its due date overdue and brings
// its penalty interest up to today (DOMAIN.md "Penalty interest").
func (a *Activities) MarkOverdue(ctx context.Context, in OverdueInput) error {
	return classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		insts, err := q.InstallmentListPastDue(ctx, dbq.InstallmentListPastDueParams{LoanID: in.LoanID, DueDate: in.Today})
		if err != nil {
			return err
		}
		for _, i := range insts {
			base := i.Principal.Sub(i.PaidPrincipal).Add(i.Interest).Sub(i.PaidInterest)
			if err := q.InstallmentSetOverdue(ctx, dbq.InstallmentSetOverdueParams{
				LoanID: in.LoanID, No: i.No, Penalty: money.PenaltyForDays(base, lending.Days(i.DueDate, in.Today)),
			}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// WriteOff closes the loan's outstanding receivables as loss (核销) after ops
// approve. What is recovered later goes to the claim holders (a later issue).
func (a *Activities) WriteOff(ctx context.Context, in WriteOffInput) error {
	return classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil {
			return err
		}
		if loan.Status != lending.StatusWrittenOff {
			if _, err := q.LoanSetStatus(ctx, dbq.LoanSetStatusParams{ToStatus: lending.StatusWrittenOff, ID: in.LoanID, FromStatuses: lending.Strings(lending.StatusOverdue)}); err != nil {
				return err
			}
			if err := q.InstallmentWriteOff(ctx, in.LoanID); err != nil {
				return err
			}
			if err := q.LoanSetNextEvent(ctx, dbq.LoanSetNextEventParams{ID: in.LoanID}); err != nil {
				return err
			}
		}
		return history(ctx, q, in.LoanID, in.Seq, lending.StatusWrittenOff, in.Today, in.Note)
	}))
}
