package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// repaymentPlan is everything a repayment applies once the bank has made its
// batch; it is stored with the request before the bank is asked.
type repaymentPlan struct {
	Kind   lending.RepayKind
	Amount decimal.Decimal
	// Installments is the open installments as the payment leaves them.
	Installments []*claims.Installment
	Received     map[int64]decimal.Decimal // what each paid user receives (investors, a guarantor)
	Through      int32
	Entry        ledger.Entry
	// Refusal is why no batch is sent (nothing due, no authorization, short of money).
	Refusal *RepayResult
	// Result is what the repayment answers once applied.
	Result RepayResult
	// The current period of a payoff (PeriodFrom to its installment's due
	// date), over which its coupons' bonus accrues as its interest does.
	PayoffNo   int32     `json:",omitempty"`
	PeriodFrom time.Time `json:",omitzero"`
	PeriodTo   time.Time `json:",omitzero"`
}

// Repay makes one repayment by hand: the oldest unpaid installment with its
// penalty, or the whole loan (payoff, 提前还款). It is allowed only when every
// earlier installment is paid and the borrower's available balance covers it
// (docs/rules.md "repayment"); one bank batch pays every claim holder pro rata. A
// refusal moves nothing and is answered as Paid=false with its code.
func (a *Activities) Repay(ctx context.Context, in RepayInput) (RepayResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	res, err := a.repay(ctx, in.LoanID, in.Seq, in.Kind, in.Attempt, in.Today)
	return res, classify(err)
}

// repay is one repayment attempt under request number loan-N-repay-Attempt,
// by hand or as the auto-debit of a collection stop.
func (a *Activities) repay(ctx context.Context, loanID int64, seq int, kind lending.RepayKind, attempt int, today time.Time) (RepayResult, error) {
	reqNo := bank.RequestNo("loan", loanID, "repay", attempt)
	outcome, plan, res, code, err := sendBatch(ctx, a, reqNo, "repayment", func() (bank.BatchRequest, repaymentPlan, bool, error) {
		return a.planRepayment(ctx, loanID, kind, today, reqNo)
	})
	switch {
	case err != nil:
		return RepayResult{}, err
	case outcome == outcomeApplied:
		// Applied by an earlier attempt: the bonuses it made due may not be paid yet.
		return plan.Result, a.payBonuses(ctx, loanID, today)
	case outcome == outcomeDeclined:
		refusal := *plan.Refusal
		refusal.Status, err = a.status(ctx, loanID)
		return refusal, err
	case outcome == outcomeRefused:
		refused := RepayResult{Code: code, Amount: plan.Amount, Detail: "the bank refused the repayment batch: " + code}
		if code == bank.CodeInsufficientBalance {
			refused.Code = errs.InsufficientBalance
		}
		if err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
			return settle(ctx, q, reqNo, "repayment", false, code)
		}); err != nil {
			return RepayResult{}, err
		}
		refused.Status, err = a.status(ctx, loanID)
		return refused, err
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		var err error
		plan.Result.Status, err = a.applyRepayment(ctx, q, tx, loanID, seq, plan, today, res.Day(today))
		return err
	})
	if err != nil {
		return plan.Result, err
	}
	// The interest coupons' bonuses of what the holders received in full are
	// paid in this step, once it is booked (docs/coupons.md).
	return plan.Result, a.payBonuses(ctx, loanID, today)
}

// status is the loan's status now.
func (a *Activities) status(ctx context.Context, loanID int64) (lending.Status, error) {
	loan, err := a.q.LoanGet(ctx, loanID)
	return loan.Status, err
}

// planRepayment works out who gets what, or why nothing is sent (docs/rules.md
// "repayment", "partial payment", "Early repayment"):
//   - next, by hand: the oldest open installment's whole remaining due, its
//     penalty brought up to the day; the balance must cover it;
//   - auto, the due-date debit or a collection step's retry: everything due
//     by the day, or what the available balance (and the authorization's
//     maximum) covers of it;
//   - payoff: the remaining principal and the current period's interest
//     accrued by days, no penalty; refused while an installment is overdue.
//
// The payment goes oldest installment first and within one to penalty, then
// interest, then principal; each part to the installment's claim holders pro
// rata to what each is owed of it (claims.Waterfall).
func (a *Activities) planRepayment(ctx context.Context, loanID int64, kind lending.RepayKind, today time.Time, reqNo string) (bank.BatchRequest, repaymentPlan, bool, error) {
	plan := repaymentPlan{Kind: kind, Amount: decimal.Zero}
	refuse := func(code, format string, args ...any) (bank.BatchRequest, repaymentPlan, bool, error) {
		plan.Refusal = &RepayResult{Code: code, Amount: plan.Amount, Detail: fmt.Sprintf(format, args...)}
		return bank.BatchRequest{}, plan, false, nil
	}
	loan, err := a.q.LoanGet(ctx, loanID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if !loan.Status.Servicing() {
		return refuse(errs.InvalidState, "the loan is %s", loan.Status)
	}
	insts, err := claims.Load(ctx, a.q, loanID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if len(insts) == 0 {
		return refuse(errs.InvalidState, "nothing left to pay")
	}
	for _, in := range insts {
		in.Accrue(today)
	}
	var targets []*claims.Installment
	switch kind {
	case lending.RepayNext:
		targets = insts[:1]
		plan.Amount = insts[0].Due().Total()
	case lending.RepayAuto:
		for _, in := range insts {
			if !in.DueDate.After(today) {
				targets = append(targets, in)
				plan.Amount = plan.Amount.Add(in.Due().Total())
			}
		}
		if len(targets) == 0 {
			return refuse(errs.InvalidState, "nothing is due yet")
		}
	case lending.RepayPayoff:
		if today.After(insts[0].DueDate) {
			return refuse(errs.InvalidState, "pay the overdue installments before paying off")
		}
		from, err := a.payoffInterest(ctx, loan, insts, today)
		if err != nil {
			return bank.BatchRequest{}, plan, false, err
		}
		plan.PayoffNo, plan.PeriodFrom, plan.PeriodTo = insts[0].No, from, insts[0].DueDate
		targets = insts
		for _, in := range insts {
			plan.Amount = plan.Amount.Add(in.Due().Total())
		}
	}

	if kind == lending.RepayAuto {
		auth, err := a.q.RepaymentAuthorizationGet(ctx, loan.ID)
		switch {
		case err != nil:
			return refuse(errs.AuthorizationNeeded, "no repayment authorization")
		case auth.ExpiresOn.Before(today):
			return refuse(errs.AuthorizationNeeded, "repayment authorization expired on %s", dateOnly(auth.ExpiresOn))
		}
		// The authorization's maximum caps one debit; what is left stays due.
		plan.Amount = decimal.Min(plan.Amount, auth.MaxAmount)
	}
	summary, err := ledger.AccountSummary(ctx, a.pool, loan.BorrowerID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if summary.Available.LessThan(plan.Amount) {
		if kind != lending.RepayAuto || summary.Available.Sign() <= 0 {
			return refuse(errs.InsufficientBalance, "available %s does not cover %s", summary.Available.StringFixed(2), plan.Amount.StringFixed(2))
		}
		// A partial payment: what the balance covers, by the waterfall.
		plan.Amount = summary.Available
	}
	borrower, err := a.accountNos(ctx, []int64{loan.BorrowerID})
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	receipts, _ := claims.Waterfall(plan.Amount, targets, claims.All)
	claims.Receive(insts, receipts)
	plan.Through = claims.Pay(insts, receipts, today)
	ts, postings, perUser := claims.Transfers(insts, receipts, borrower[loan.BorrowerID], true)
	plan.Installments, plan.Received = insts, perUser
	// The borrower pays, and each holder receives, principal, interest and
	// penalty as lines of their own (docs/money.md "Fund log").
	paid := claims.Paid(receipts)
	if !paid.Total().Equal(plan.Amount) {
		return bank.BatchRequest{}, plan, false, fmt.Errorf("loan %d: the waterfall pays %s of %s", loan.ID, paid.Total(), plan.Amount)
	}
	payer := claims.KindPostings(ledger.UserAvailable(loan.BorrowerID), paid, true)
	for i := range payer {
		payer[i].Counterpart = "claim holders"
	}
	for i := range postings {
		postings[i].Counterpart = userRef(loan.BorrowerID)
	}
	plan.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeRepayment, Ref: loanRef(loan.ID), Postings: append(payer, postings...)}
	finished := true
	for _, in := range insts {
		finished = finished && in.Closed()
	}
	plan.Result = RepayResult{Paid: true, Amount: plan.Amount, Through: int(plan.Through), Finished: finished}
	return bank.BatchRequest{RequestNo: reqNo, Purpose: "repayment", Transfers: ts}, plan, true, nil
}

// payoffInterest re-plans the interest of a payoff (claims.AccruePayoff):
// the current period began on the previous installment's due date, or on the
// disbursement date for the first.
func (a *Activities) payoffInterest(ctx context.Context, loan dbq.Loan, insts []*claims.Installment, today time.Time) (time.Time, error) {
	periodStart := *loan.DisbursedOn
	if cur := insts[0]; cur.No > 1 {
		prev, err := a.q.InstallmentGet(ctx, dbq.InstallmentGetParams{LoanID: loan.ID, No: cur.No - 1})
		if err != nil {
			return time.Time{}, err
		}
		periodStart = prev.DueDate
	}
	claims.AccruePayoff(insts, periodStart, today)
	return periodStart, nil
}

// applyRepayment books a repayment the bank has made: the ledger entry on
// the bank's day, the installments and claims as the plan left them, the
// loan's status and history row, the notices to the borrower and to every
// holder paid, and the withdrawal of reminders no longer needed.
func (a *Activities) applyRepayment(ctx context.Context, q *dbq.Queries, tx pgx.Tx, loanID int64, seq int, plan repaymentPlan, today, bankDate time.Time) (lending.Status, error) {
	loan, err := q.LoanGetForUpdate(ctx, loanID)
	if err != nil {
		return "", err
	}
	plan.Entry.BusinessDate = bankDate
	if _, err := ledger.Post(ctx, tx, plan.Entry); err != nil {
		return "", err
	}
	if err := claims.Save(ctx, q, loanID, plan.Installments); err != nil {
		return "", err
	}
	// Coupons (docs/coupons.md): a payoff accrues the current bonus by days
	// and lapses the later ones; then every bonus whose interest the holder
	// has now received in full is due, paid once this step commits.
	if plan.Kind == lending.RepayPayoff && plan.PayoffNo > 0 {
		if err := coupons.PaidOff(ctx, q, loanID, plan.PayoffNo, plan.PeriodFrom, plan.PeriodTo, today); err != nil {
			return "", err
		}
	}
	if err := coupons.Earned(ctx, q, loanID, today); err != nil {
		return "", err
	}
	if plan.Through > 0 {
		if err := q.NotificationWithdrawReminders(ctx, dbq.NotificationWithdrawRemindersParams{BorrowerID: loan.BorrowerID, LoanID: &loanID, ClosedThrough: &plan.Through, Today: today}); err != nil {
			return "", err
		}
	}
	status := loan.Status
	r := newRows(q, loanID, seq, today)
	var what string
	switch {
	case plan.Kind == lending.RepayPayoff:
		what = fmt.Sprintf("paid off (%s)", plan.Amount.StringFixed(2))
	case plan.Through > 0:
		what = fmt.Sprintf("installment %d paid (%s, %s)", plan.Through, plan.Kind, plan.Amount.StringFixed(2))
	default:
		what = fmt.Sprintf("partial payment of %s (%s): the oldest installment is still open", plan.Amount.StringFixed(2), plan.Kind)
	}
	switch {
	case plan.Result.Finished:
		status = lending.StatusRepaid
		err = r.move(ctx, []lending.Status{lending.StatusRepaying, lending.StatusOverdue}, lending.StatusRepaid, "%s; repaid in full", what)
		if err == nil {
			err = publish(ctx, q, loanID, seq, nil)
		}
	case loan.Status == lending.StatusOverdue:
		past, perr := q.InstallmentListPastDue(ctx, dbq.InstallmentListPastDueParams{LoanID: loanID, DueDate: today})
		if perr != nil {
			return "", perr
		}
		if len(past) == 0 {
			status = lending.StatusRepaying
			err = r.move(ctx, []lending.Status{lending.StatusOverdue}, lending.StatusRepaying, "%s; no installment overdue", what)
		} else {
			err = r.add(ctx, loan.Status, "%s", what)
		}
	default:
		err = r.add(ctx, loan.Status, "%s", what)
	}
	if err != nil {
		return "", err
	}
	amount := plan.Amount
	if err := notify(ctx, q, notice{
		UserID: loan.BorrowerID, Kind: lending.NoticeRepaymentReceived, LoanID: loanID, Installment: int(plan.Through), Amount: &amount,
		On: today, At: a.contactAt(today), Dedupe: plan.Entry.RequestNo + "-received",
		Message: fmt.Sprintf("Loan %d: %s received, thank you.", loanID, amount.StringFixed(2)),
	}); err != nil {
		return "", err
	}
	if err := a.notifyHolders(ctx, q, loanID, plan.Received, lending.NoticeRepaymentReceived, plan.Entry.RequestNo, today,
		"Loan %d: the borrower repaid; %s to you."); err != nil {
		return "", err
	}
	plan.Result.Status = status
	return status, settle(ctx, q, plan.Entry.RequestNo, "repayment", true, plan)
}

// notifyHolders tells every holder paid what it received.
func (a *Activities) notifyHolders(ctx context.Context, q *dbq.Queries, loanID int64, paid map[int64]decimal.Decimal, kind lending.NoticeKind, reqNo string, day time.Time, format string) error {
	ids := make([]int64, 0, len(paid))
	for id := range paid {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		amount := paid[id]
		if err := notify(ctx, q, notice{
			UserID: id, Kind: kind, LoanID: loanID, Amount: &amount, On: day, At: a.stamp(day),
			Dedupe: fmt.Sprintf("%s-%s-user-%d", reqNo, kind, id), Message: fmt.Sprintf(format, loanID, amount.StringFixed(2)),
		}); err != nil {
			return err
		}
	}
	return nil
}
