package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// claimPart is what one claim (bid) receives of a repayment.
type claimPart struct {
	bid                          dbq.Bid
	principal, interest, penalty decimal.Decimal
}

func (c claimPart) total() decimal.Decimal { return c.principal.Add(c.interest).Add(c.penalty) }

// installmentPayment is how one installment's row changes when paid.
type installmentPayment struct {
	no                           int32
	principal, interest, penalty decimal.Decimal
}

type repaymentPlan struct {
	amount  decimal.Decimal
	parts   []claimPart
	paid    []installmentPayment
	payoff  bool
	through int32
	last    int32
}

// Repay makes one repayment attempt: the oldest unpaid installment with its
// penalty (auto-debit or by hand), or the whole loan (payoff). It is allowed
// only when every earlier installment is paid and the borrower's available
// balance covers it (DOMAIN.md "repayment"); one bank batch pays every claim
// holder pro rata. A refusal moves nothing and is answered as Paid=false.
func (a *Activities) Repay(ctx context.Context, in RepayInput) (RepayResult, error) {
	reqNo := bank.RequestNo("loan", in.LoanID, "repay", in.Attempt)
	if rec, err := a.q.BankRequestGet(ctx, reqNo); err == nil && rec.Status == string(bank.StatusSucceeded) {
		var res RepayResult
		return res, classify(json.Unmarshal(rec.Detail, &res))
	} else if err != nil && !errors.Is(err, db.ErrNotFound) {
		return RepayResult{}, classify(err)
	}
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return RepayResult{}, classify(err)
	}
	if !loan.Status.Servicing() {
		return RepayResult{Code: errs.InvalidState, Detail: "the loan is " + string(loan.Status)}, nil
	}
	plan, refusal, err := a.planRepayment(ctx, loan, in.Kind, in.Today)
	if err != nil {
		return RepayResult{}, classify(err)
	}
	if refusal != nil {
		return *refusal, nil
	}
	if in.Kind == RepayAuto {
		if r := a.checkAuthorization(ctx, loan.ID, plan.amount, in.Today); r != nil {
			return *r, nil
		}
	}
	summary, err := ledger.AccountSummary(ctx, a.pool, loan.BorrowerID)
	if err != nil {
		return RepayResult{}, classify(err)
	}
	if summary.Available.LessThan(plan.amount) {
		return RepayResult{Code: errs.InsufficientBalance, Amount: plan.amount,
			Detail: fmt.Sprintf("available %s does not cover %s", summary.Available.StringFixed(2), plan.amount.StringFixed(2))}, nil
	}

	ids := []int64{loan.BorrowerID}
	for _, p := range plan.parts {
		ids = append(ids, p.bid.InvestorID)
	}
	accounts, err := a.accountNos(ctx, ids)
	if err != nil {
		return RepayResult{}, classify(err)
	}
	batch, entry := repaymentMovement(reqNo, loan, plan, accounts, in.Today)
	ok, code, err := bankResult(a.bank.Batch(ctx, batch))
	if err != nil {
		return RepayResult{}, classify(err)
	}
	if !ok {
		return RepayResult{Code: code, Amount: plan.amount, Detail: "the bank refused the repayment batch: " + code}, nil
	}

	res := RepayResult{Paid: true, Amount: plan.amount, Through: int(plan.through), Finished: plan.payoff || plan.through == plan.last}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		if _, err := ledger.Post(ctx, tx, entry); err != nil {
			return err
		}
		for _, p := range plan.paid {
			if _, err := q.InstallmentPay(ctx, dbq.InstallmentPayParams{
				LoanID: loan.ID, No: p.no, PaidPrincipal: p.principal, PaidInterest: p.interest,
				Interest: p.interest, Penalty: p.penalty, PaidOn: &in.Today,
			}); err != nil {
				return err
			}
		}
		if err := a.receiveShares(ctx, q, loan.ID, plan); err != nil {
			return err
		}
		detail, err := json.Marshal(res)
		if err != nil {
			return err
		}
		return q.BankRequestRecord(ctx, dbq.BankRequestRecordParams{RequestNo: reqNo, Kind: "repayment", Status: string(bank.StatusSucceeded), Detail: detail})
	})
	return res, classify(err)
}

// planRepayment works out who gets what. The installment's principal and
// interest shares were planned at disbursement; the penalty and the payoff's
// accrued interest are split now by the same largest-remainder rule.
func (a *Activities) planRepayment(ctx context.Context, loan dbq.Loan, kind string, today time.Time) (repaymentPlan, *RepayResult, error) {
	insts, err := a.q.InstallmentList(ctx, loan.ID)
	if err != nil {
		return repaymentPlan{}, nil, err
	}
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: loan.ID, Status: lending.BidDisbursed})
	if err != nil {
		return repaymentPlan{}, nil, err
	}
	weights := make([]decimal.Decimal, len(bids))
	parts := make([]claimPart, len(bids))
	for i, b := range bids {
		weights[i] = b.Amount
		parts[i] = claimPart{bid: b, principal: decimal.Zero, interest: decimal.Zero, penalty: decimal.Zero}
	}
	k := -1
	for i, inst := range insts {
		if inst.Status.Open() {
			k = i
			break
		}
	}
	if k < 0 {
		return repaymentPlan{}, &RepayResult{Code: errs.InvalidState, Detail: "nothing left to pay"}, nil
	}
	plan := repaymentPlan{parts: parts, last: insts[len(insts)-1].No, amount: decimal.Zero}
	cur := insts[k]
	addShares := func(no int32) (decimal.Decimal, error) {
		shares, err := a.q.InstallmentShareList(ctx, dbq.InstallmentShareListParams{LoanID: loan.ID, No: no})
		if err != nil {
			return decimal.Zero, err
		}
		sum := decimal.Zero
		for _, s := range shares {
			for i := range parts {
				if parts[i].bid.ID == s.BidID {
					parts[i].principal = parts[i].principal.Add(s.Principal)
					if kind != RepayPayoff {
						parts[i].interest = parts[i].interest.Add(s.Interest)
					}
					sum = sum.Add(s.Principal)
				}
			}
		}
		return sum, nil
	}

	if kind != RepayPayoff {
		penalty := decimal.Zero
		if dpd := lending.Days(cur.DueDate, today); dpd > 0 {
			penalty = money.PenaltyForDays(cur.Principal.Add(cur.Interest), dpd)
		}
		if _, err := addShares(cur.No); err != nil {
			return repaymentPlan{}, nil, err
		}
		for i, p := range money.Split(penalty, weights) {
			parts[i].penalty = p
		}
		plan.paid = []installmentPayment{{no: cur.No, principal: cur.Principal, interest: cur.Interest, penalty: penalty}}
		plan.through = cur.No
		plan.amount = cur.Principal.Add(cur.Interest).Add(penalty)
		return plan, nil, nil
	}

	// Payoff (提前还款): remaining principal + the current period's interest
	// accrued by days; later periods' interest is never owed. No penalty.
	if today.After(cur.DueDate) {
		return repaymentPlan{}, &RepayResult{Code: errs.InvalidState, Detail: "pay the overdue installments before paying off"}, nil
	}
	periodStart := *loan.DisbursedOn
	if k > 0 {
		periodStart = insts[k-1].DueDate
	}
	_, accrued := money.PayoffAmount(decimal.Zero, cur.Interest, periodStart, cur.DueDate, today)
	for i, p := range money.Split(accrued, weights) {
		parts[i].interest = p
	}
	remaining := decimal.Zero
	for _, inst := range insts[k:] {
		if _, err := addShares(inst.No); err != nil {
			return repaymentPlan{}, nil, err
		}
		interest := decimal.Zero
		if inst.No == cur.No {
			interest = accrued
		}
		plan.paid = append(plan.paid, installmentPayment{no: inst.No, principal: inst.Principal, interest: interest, penalty: decimal.Zero})
		remaining = remaining.Add(inst.Principal)
	}
	plan.payoff, plan.through = true, plan.last
	plan.amount = remaining.Add(accrued)
	return plan, nil, nil
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

// repaymentMovement builds the bank batch (one transfer per investor) and its
// ledger mirror.
func repaymentMovement(reqNo string, loan dbq.Loan, plan repaymentPlan, accounts map[int64]string, today time.Time) (bank.BatchRequest, ledger.Entry) {
	perInvestor := map[int64]decimal.Decimal{}
	var order []int64
	for _, p := range plan.parts {
		if _, seen := perInvestor[p.bid.InvestorID]; !seen {
			order = append(order, p.bid.InvestorID)
			perInvestor[p.bid.InvestorID] = decimal.Zero
		}
		perInvestor[p.bid.InvestorID] = perInvestor[p.bid.InvestorID].Add(p.total())
	}
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: "repayment"}
	entry := ledger.Entry{RequestNo: reqNo, Type: "repayment", Ref: loanRef(loan.ID), BusinessDate: today,
		Postings: []ledger.Posting{{Account: ledger.UserAvailable(loan.BorrowerID), Amount: plan.amount.Neg(), Counterpart: "investors"}}}
	for _, id := range order {
		amt := perInvestor[id]
		if amt.IsZero() {
			continue
		}
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: accounts[loan.BorrowerID], To: accounts[id], Amount: amt})
		entry.Postings = append(entry.Postings, ledger.Posting{Account: ledger.UserAvailable(id), Amount: amt, Counterpart: userRef(loan.BorrowerID)})
	}
	return batch, entry
}

// receiveShares records what each claim received, installment by installment.
func (a *Activities) receiveShares(ctx context.Context, q *dbq.Queries, loanID int64, plan repaymentPlan) error {
	for _, p := range plan.paid {
		shares, err := q.InstallmentShareList(ctx, dbq.InstallmentShareListParams{LoanID: loanID, No: p.no})
		if err != nil {
			return err
		}
		for _, s := range shares {
			interest, penalty := s.Interest, decimal.Zero
			for _, part := range plan.parts {
				if part.bid.ID == s.BidID {
					penalty = part.penalty
					if plan.payoff {
						interest = decimal.Zero
						if p.no == plan.paid[0].no {
							interest = part.interest
						}
					}
				}
			}
			if err := q.InstallmentShareReceive(ctx, dbq.InstallmentShareReceiveParams{
				LoanID: loanID, No: p.no, BidID: s.BidID, Principal: s.Principal, Interest: interest, Penalty: penalty,
			}); err != nil {
				return err
			}
		}
		if plan.payoff {
			if err := q.InstallmentShareWaiveInterest(ctx, dbq.InstallmentShareWaiveInterestParams{LoanID: loanID, No: p.no}); err != nil {
				return err
			}
		}
	}
	return nil
}
