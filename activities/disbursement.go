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

// Disburse sends the loan's one disbursement batch (放款): every frozen bid
// moves investor → borrower, then the service fee borrower → fee account and
// the risk-reserve contribution borrower → risk-reserve account (DOMAIN.md
// "disbursement"). On success it writes the ledger entry, the schedule and each
// claim's planned shares in one transaction.
func (a *Activities) Disburse(ctx context.Context, in DisburseInput) (DisburseResult, error) {
	reqNo := bank.Disbursement(in.LoanID, in.Attempt)
	if done, err := a.q.BankRequestGet(ctx, reqNo); err == nil && done.Status == string(bank.StatusSucceeded) {
		return a.disbursed(ctx, in.LoanID)
	} else if err != nil && !errors.Is(err, db.ErrNotFound) {
		return DisburseResult{}, classify(err)
	}
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	if loan.Status == lending.StatusRepaying {
		return a.disbursed(ctx, in.LoanID)
	}
	if loan.Status != lending.StatusDisbursing || loan.Grade == nil || loan.AnnualRate == nil {
		return DisburseResult{}, classify(errs.New(errs.InvalidState, "loan %d is %s", loan.ID, loan.Status))
	}
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: loan.ID, Status: lending.BidFrozen})
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	accounts, err := a.accountNos(ctx, append(investorIDs(bids), loan.BorrowerID))
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	fee, err := money.ServiceFee(money.Grade(*loan.Grade), loan.Amount)
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	reserve := money.RiskReserve(loan.Amount)

	borrower := accounts[loan.BorrowerID]
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: "disbursement"}
	entry := ledger.Entry{RequestNo: reqNo, Type: "disbursement", Ref: loanRef(loan.ID), BusinessDate: in.Today}
	raised := decimal.Zero
	for _, b := range bids {
		raised = raised.Add(b.Amount)
		batch.Transfers = append(batch.Transfers, bank.Transfer{
			From: accounts[b.InvestorID], To: borrower, Amount: b.Amount, FreezeRequestNo: bank.BidFreeze(b.ID),
		})
		entry.Postings = append(entry.Postings,
			ledger.Posting{Account: ledger.UserFrozen(b.InvestorID), Amount: b.Amount.Neg(), Counterpart: userRef(loan.BorrowerID)})
	}
	if !raised.Equal(loan.Amount) {
		return DisburseResult{}, classify(errs.New(errs.InvalidState, "loan %d: frozen bids %s ≠ amount %s", loan.ID, raised, loan.Amount))
	}
	batch.Transfers = append(batch.Transfers,
		bank.Transfer{From: borrower, To: bank.AccountFee, Amount: fee},
		bank.Transfer{From: borrower, To: bank.AccountRiskReserve, Amount: reserve})
	entry.Postings = append(entry.Postings,
		ledger.Posting{Account: ledger.UserAvailable(loan.BorrowerID), Amount: loan.Amount.Sub(fee).Sub(reserve), Counterpart: "investors"},
		ledger.Posting{Account: ledger.PlatformFee, Amount: fee, Counterpart: userRef(loan.BorrowerID)},
		ledger.Posting{Account: ledger.PlatformRiskReserve, Amount: reserve, Counterpart: userRef(loan.BorrowerID)})

	ok, code, err := bankResult(a.bank.Batch(ctx, batch))
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	if !ok {
		return DisburseResult{Succeeded: false, Code: code}, nil
	}

	schedule, err := money.Schedule(loan.Amount, *loan.AnnualRate, int(loan.TermMonths), money.Method(loan.RepaymentMethod), in.Today)
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	weights := make([]decimal.Decimal, len(bids))
	for i, b := range bids {
		weights[i] = b.Amount
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		if _, err := ledger.Post(ctx, tx, entry); err != nil {
			return err
		}
		principals, interests := make([]decimal.Decimal, len(schedule)), make([]decimal.Decimal, len(schedule))
		for k, inst := range schedule {
			principals[k], interests[k] = inst.Principal, inst.Interest
		}
		principal, interest := money.ClaimShares(principals, interests, weights)
		for k, inst := range schedule {
			if err := q.InstallmentInsert(ctx, dbq.InstallmentInsertParams{
				LoanID: loan.ID, No: int32(inst.No), DueDate: inst.DueDate, Principal: inst.Principal, Interest: inst.Interest,
			}); err != nil {
				return err
			}
			for i, b := range bids {
				if err := q.InstallmentShareInsert(ctx, dbq.InstallmentShareInsertParams{
					LoanID: loan.ID, No: int32(inst.No), BidID: b.ID, InvestorID: b.InvestorID,
					Principal: principal[k][i], Interest: interest[k][i],
				}); err != nil {
					return err
				}
			}
		}
		if err := q.BidSetDisbursed(ctx, loan.ID); err != nil {
			return err
		}
		if err := q.LoanSetDisbursed(ctx, dbq.LoanSetDisbursedParams{ID: loan.ID, DisbursedOn: &in.Today}); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"fee": fee.StringFixed(2), "risk_reserve": reserve.StringFixed(2)})
		return q.BankRequestRecord(ctx, dbq.BankRequestRecordParams{RequestNo: reqNo, Kind: "disbursement", Status: string(bank.StatusSucceeded), Detail: detail})
	})
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	return a.disbursed(ctx, loan.ID)
}

// disbursed answers from the stored schedule, so a retry after the commit
// returns what the first attempt did.
func (a *Activities) disbursed(ctx context.Context, loanID int64) (DisburseResult, error) {
	insts, err := a.q.InstallmentList(ctx, loanID)
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	res := DisburseResult{Succeeded: true}
	for _, i := range insts {
		res.Schedule = append(res.Schedule, Due{No: int(i.No), DueDate: i.DueDate})
	}
	return res, nil
}

// accountNos maps users to their custody account numbers; a user without one
// cannot take part in a money movement.
func (a *Activities) accountNos(ctx context.Context, ids []int64) (map[int64]string, error) {
	rows, err := a.q.UserAccountNos(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		if r.CustodyAccountNo == nil {
			return nil, errs.New(errs.NoCustodyAccount, "user %d has no custody account", r.ID)
		}
		out[r.ID] = *r.CustodyAccountNo
	}
	return out, nil
}

func investorIDs(bids []dbq.Bid) []int64 {
	ids := make([]int64, 0, len(bids))
	for _, b := range bids {
		ids = append(ids, b.InvestorID)
	}
	return ids
}

func loanRef(id int64) string { return fmt.Sprintf("loan:%d", id) }
func userRef(id int64) string { return fmt.Sprintf("user:%d", id) }

func dateOnly(t time.Time) string { return t.Format(time.DateOnly) }
