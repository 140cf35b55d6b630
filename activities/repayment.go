package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// claimPart is what one claim (bid) receives of a repayment.
type claimPart struct {
	BidID, InvestorID            int64
	Principal, Interest, Penalty decimal.Decimal
}

func (c claimPart) total() decimal.Decimal { return c.Principal.Add(c.Interest).Add(c.Penalty) }

// installmentPayment is how one installment's row changes when paid.
type installmentPayment struct {
	No                           int32
	Principal, Interest, Penalty decimal.Decimal
}

// repaymentPlan is everything a repayment applies once the bank has made its
// batch; it is stored with the request before the bank is asked.
type repaymentPlan struct {
	Kind    lending.RepayKind
	Amount  decimal.Decimal
	Parts   []claimPart
	Paid    []installmentPayment
	Payoff  bool
	Through int32
	Last    int32
	Entry   ledger.Entry
	// Refusal is why no batch is sent (nothing due, no authorization, short of money).
	Refusal *RepayResult
	// Result is what the repayment answers once applied.
	Result RepayResult
}

// Repay makes one repayment by hand: the oldest unpaid installment with its
// penalty, or the whole loan (payoff, 提前还款). It is allowed only when every
// earlier installment is paid and the borrower's available balance covers it
// (DOMAIN.md "repayment"); one bank batch pays every claim holder pro rata. A
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
		return plan.Result, nil
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
		plan.Result.Status, err = a.applyRepayment(ctx, q, tx, loanID, seq, plan, today, bankDay(res, today))
		return err
	})
	return plan.Result, err
}

// status is the loan's status now.
func (a *Activities) status(ctx context.Context, loanID int64) (lending.Status, error) {
	loan, err := a.q.LoanGet(ctx, loanID)
	return loan.Status, err
}

// planRepayment works out who gets what, or why nothing is sent. The
// installment's principal and interest shares were planned at disbursement;
// the penalty and the payoff's accrued interest are split now by the same
// largest-remainder rule (DOMAIN.md "Investor shares").
func (a *Activities) planRepayment(ctx context.Context, loanID int64, kind lending.RepayKind, today time.Time, reqNo string) (bank.BatchRequest, repaymentPlan, bool, error) {
	refuse := func(code, format string, args ...any) (bank.BatchRequest, repaymentPlan, bool, error) {
		return bank.BatchRequest{}, repaymentPlan{Refusal: &RepayResult{Code: code, Detail: fmt.Sprintf(format, args...)}}, false, nil
	}
	loan, err := a.q.LoanGet(ctx, loanID)
	if err != nil {
		return bank.BatchRequest{}, repaymentPlan{}, false, err
	}
	if !loan.Status.Servicing() {
		return refuse(errs.InvalidState, "the loan is %s", loan.Status)
	}
	insts, err := a.q.InstallmentList(ctx, loan.ID)
	if err != nil {
		return bank.BatchRequest{}, repaymentPlan{}, false, err
	}
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: loan.ID, Status: lending.BidDisbursed})
	if err != nil {
		return bank.BatchRequest{}, repaymentPlan{}, false, err
	}
	weights := make([]decimal.Decimal, len(bids))
	parts := make([]claimPart, len(bids))
	for i, b := range bids {
		weights[i] = b.Amount
		parts[i] = claimPart{BidID: b.ID, InvestorID: b.InvestorID, Principal: decimal.Zero, Interest: decimal.Zero, Penalty: decimal.Zero}
	}
	k := -1
	for i, inst := range insts {
		if inst.Status.Open() {
			k = i
			break
		}
	}
	if k < 0 {
		return refuse(errs.InvalidState, "nothing left to pay")
	}
	plan := repaymentPlan{Kind: kind, Parts: parts, Last: insts[len(insts)-1].No, Amount: decimal.Zero}
	cur := insts[k]
	addShares := func(no int32) error {
		shares, err := a.q.InstallmentShareList(ctx, dbq.InstallmentShareListParams{LoanID: loan.ID, No: no})
		if err != nil {
			return err
		}
		for _, s := range shares {
			for i := range parts {
				if parts[i].BidID == s.BidID {
					parts[i].Principal = parts[i].Principal.Add(s.Principal)
					if kind != lending.RepayPayoff {
						parts[i].Interest = parts[i].Interest.Add(s.Interest)
					}
				}
			}
		}
		return nil
	}

	if kind != lending.RepayPayoff {
		penalty := money.PenaltyForDays(cur.Principal.Add(cur.Interest), lending.Days(cur.DueDate, today))
		if err := addShares(cur.No); err != nil {
			return bank.BatchRequest{}, repaymentPlan{}, false, err
		}
		for i, p := range money.Split(penalty, weights) {
			parts[i].Penalty = p
		}
		plan.Paid = []installmentPayment{{No: cur.No, Principal: cur.Principal, Interest: cur.Interest, Penalty: penalty}}
		plan.Through = cur.No
		plan.Amount = cur.Principal.Add(cur.Interest).Add(penalty)
	} else {
		// Payoff (提前还款): remaining principal + the current period's
		// interest accrued by days; later periods' interest is never owed.
		if today.After(cur.DueDate) {
			return refuse(errs.InvalidState, "pay the overdue installments before paying off")
		}
		periodStart := *loan.DisbursedOn
		if k > 0 {
			periodStart = insts[k-1].DueDate
		}
		_, accrued := money.PayoffAmount(decimal.Zero, cur.Interest, periodStart, cur.DueDate, today)
		for i, p := range money.Split(accrued, weights) {
			parts[i].Interest = p
		}
		remaining := decimal.Zero
		for _, inst := range insts[k:] {
			if err := addShares(inst.No); err != nil {
				return bank.BatchRequest{}, repaymentPlan{}, false, err
			}
			interest := decimal.Zero
			if inst.No == cur.No {
				interest = accrued
			}
			plan.Paid = append(plan.Paid, installmentPayment{No: inst.No, Principal: inst.Principal, Interest: interest, Penalty: decimal.Zero})
			remaining = remaining.Add(inst.Principal)
		}
		plan.Payoff, plan.Through = true, plan.Last
		plan.Amount = remaining.Add(accrued)
	}

	short := func(code, format string, args ...any) (bank.BatchRequest, repaymentPlan, bool, error) {
		plan.Refusal = &RepayResult{Code: code, Amount: plan.Amount, Detail: fmt.Sprintf(format, args...)}
		return bank.BatchRequest{}, plan, false, nil
	}
	if kind == lending.RepayAuto {
		if r := a.checkAuthorization(ctx, loan.ID, plan.Amount, today); r != nil {
			return short(r.Code, "%s", r.Detail)
		}
	}
	summary, err := ledger.AccountSummary(ctx, a.pool, loan.BorrowerID)
	if err != nil {
		return bank.BatchRequest{}, repaymentPlan{}, false, err
	}
	if summary.Available.LessThan(plan.Amount) {
		return short(errs.InsufficientBalance, "available %s does not cover %s", summary.Available.StringFixed(2), plan.Amount.StringFixed(2))
	}
	ids := []int64{loan.BorrowerID}
	for _, p := range plan.Parts {
		ids = append(ids, p.InvestorID)
	}
	accounts, err := a.accountNos(ctx, ids)
	if err != nil {
		return bank.BatchRequest{}, repaymentPlan{}, false, err
	}
	batch := repaymentMovement(reqNo, loan, &plan, accounts)
	plan.Result = RepayResult{Paid: true, Amount: plan.Amount, Through: int(plan.Through), Finished: plan.Payoff || plan.Through == plan.Last}
	return batch, plan, true, nil
}

// checkAuthorization: an auto-debit needs the borrower's repayment
// authorization (还款授权), unexpired and with a maximum that covers the amount.
func (a *Activities) checkAuthorization(ctx context.Context, loanID int64, amount decimal.Decimal, today time.Time) *RepayResult {
	auth, err := a.q.RepaymentAuthorizationGet(ctx, loanID)
	switch {
	case err != nil:
		return &RepayResult{Code: errs.AuthorizationNeeded, Amount: amount, Detail: "no repayment authorization"}
	case auth.ExpiresOn.Before(today):
		return &RepayResult{Code: errs.AuthorizationNeeded, Amount: amount, Detail: "repayment authorization expired on " + dateOnly(auth.ExpiresOn)}
	case auth.MaxAmount.LessThan(amount):
		return &RepayResult{Code: errs.AuthorizationNeeded, Amount: amount,
			Detail: fmt.Sprintf("%s exceeds the authorized maximum %s", amount.StringFixed(2), auth.MaxAmount.StringFixed(2))}
	}
	return nil
}

// repaymentMovement builds the bank batch (one transfer per investor) and sets
// the plan's ledger mirror (dated when the bank has answered).
func repaymentMovement(reqNo string, loan dbq.Loan, plan *repaymentPlan, accounts map[int64]string) bank.BatchRequest {
	perInvestor := map[int64]decimal.Decimal{}
	var order []int64
	for _, p := range plan.Parts {
		if _, seen := perInvestor[p.InvestorID]; !seen {
			order = append(order, p.InvestorID)
			perInvestor[p.InvestorID] = decimal.Zero
		}
		perInvestor[p.InvestorID] = perInvestor[p.InvestorID].Add(p.total())
	}
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: "repayment"}
	plan.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeRepayment, Ref: loanRef(loan.ID),
		Postings: []ledger.Posting{{Account: ledger.UserAvailable(loan.BorrowerID), Amount: plan.Amount.Neg(), Counterpart: "investors"}}}
	for _, id := range order {
		amt := perInvestor[id]
		if amt.IsZero() {
			continue
		}
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: accounts[loan.BorrowerID], To: accounts[id], Amount: amt})
		plan.Entry.Postings = append(plan.Entry.Postings, ledger.Posting{Account: ledger.UserAvailable(id), Amount: amt, Counterpart: userRef(loan.BorrowerID)})
	}
	return batch
}

// applyRepayment books a repayment the bank has made: the ledger entry on
// the bank's day, the installments and shares, the loan's status, history
// rows and notices, and the withdrawal of reminders no longer needed.
func (a *Activities) applyRepayment(ctx context.Context, q *dbq.Queries, tx pgx.Tx, loanID int64, seq int, plan repaymentPlan, today, bankDate time.Time) (lending.Status, error) {
	loan, err := q.LoanGetForUpdate(ctx, loanID)
	if err != nil {
		return "", err
	}
	plan.Entry.BusinessDate = bankDate
	if _, err := ledger.Post(ctx, tx, plan.Entry); err != nil {
		return "", err
	}
	for _, p := range plan.Paid {
		if _, err := q.InstallmentPay(ctx, dbq.InstallmentPayParams{
			LoanID: loanID, No: p.No, PaidPrincipal: p.Principal, PaidInterest: p.Interest,
			Interest: p.Interest, Penalty: p.Penalty, PaidOn: &today,
		}); err != nil {
			return "", err
		}
	}
	if err := receiveShares(ctx, q, loanID, plan); err != nil {
		return "", err
	}
	if err := q.NotificationWithdrawReminders(ctx, dbq.NotificationWithdrawRemindersParams{LoanID: &loanID, ClosedThrough: &plan.Through, Today: today}); err != nil {
		return "", err
	}
	status := loan.Status
	r := newRows(q, loanID, seq, today)
	what := fmt.Sprintf("installment %d paid (%s, %s)", plan.Through, plan.Kind, plan.Amount.StringFixed(2))
	if plan.Payoff {
		what = fmt.Sprintf("paid off (%s)", plan.Amount.StringFixed(2))
	}
	switch {
	case plan.Result.Finished:
		status = lending.StatusRepaid
		if err := r.move(ctx, []lending.Status{lending.StatusRepaying, lending.StatusOverdue}, lending.StatusRepaid, "%s; repaid in full", what); err != nil {
			return "", err
		}
		if err := publish(ctx, q, loanID, seq, nil); err != nil {
			return "", err
		}
	case loan.Status == lending.StatusOverdue:
		past, err := q.InstallmentListPastDue(ctx, dbq.InstallmentListPastDueParams{LoanID: loanID, DueDate: today})
		if err != nil {
			return "", err
		}
		if len(past) == 0 {
			status = lending.StatusRepaying
			err = r.move(ctx, []lending.Status{lending.StatusOverdue}, lending.StatusRepaying, "%s; no installment overdue", what)
		} else {
			err = r.add(ctx, loan.Status, "%s", what)
		}
		if err != nil {
			return "", err
		}
	default:
		if err := r.add(ctx, loan.Status, "%s", what); err != nil {
			return "", err
		}
	}
	amount := plan.Amount
	if err := notify(ctx, q, notice{
		UserID: loan.BorrowerID, Kind: lending.NoticeRepaymentReceived, LoanID: loanID, Installment: int(plan.Through), Amount: &amount,
		On: today, At: a.contactAt(today), Dedupe: plan.Entry.RequestNo + "-received",
		Message: fmt.Sprintf("Loan %d: %s received, thank you.", loanID, amount.StringFixed(2)),
	}); err != nil {
		return "", err
	}
	plan.Result.Status = status
	return status, settle(ctx, q, plan.Entry.RequestNo, "repayment", true, plan)
}

// receiveShares records what each claim received, installment by installment.
func receiveShares(ctx context.Context, q *dbq.Queries, loanID int64, plan repaymentPlan) error {
	for _, p := range plan.Paid {
		shares, err := q.InstallmentShareList(ctx, dbq.InstallmentShareListParams{LoanID: loanID, No: p.No})
		if err != nil {
			return err
		}
		for _, s := range shares {
			interest, penalty := s.Interest, decimal.Zero
			for _, part := range plan.Parts {
				if part.BidID == s.BidID {
					penalty = part.Penalty
					if plan.Payoff {
						interest = decimal.Zero
						if p.No == plan.Paid[0].No {
							interest = part.Interest
						}
					}
				}
			}
			if err := q.InstallmentShareReceive(ctx, dbq.InstallmentShareReceiveParams{
				LoanID: loanID, No: p.No, BidID: s.BidID, Principal: s.Principal, Interest: interest, Penalty: penalty,
			}); err != nil {
				return err
			}
		}
		if plan.Payoff {
			if err := q.InstallmentShareWaiveInterest(ctx, dbq.InstallmentShareWaiveInterestParams{LoanID: loanID, No: p.No}); err != nil {
				return err
			}
		}
	}
	return nil
}
