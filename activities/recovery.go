package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/recovery"
)

// recoveryPlan is what a recovery applies once the bank has made its batch.
type recoveryPlan struct {
	Result RecoverResult
	Shares []recovery.Share
	Entry  ledger.Entry
}

// recoveryRowsFrom: a recovery's history row on its loan, whose own workflow
// has ended, takes a step number far above any the loan's workflow used.
const recoveryRowsFrom = 1_000_000

// Recover distributes money recovered after a write-off (docs/rules.md
// "write-off"): debited from the borrower's available balance and paid to
// the claim holders, in one bank batch, in the shares recovery.Reserve
// reserved when the recovery was admitted (pro rata to what each holder
// still had unrecovered, to the cent). The money is reserved before the
// batch is sent, so a recovery that meets another never pays a holder more
// than it is owed; one that moves nothing gives its reservation back.
func (a *Activities) Recover(ctx context.Context, in RecoverInput) (RecoverResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	rec, err := a.q.RecoveryGet(ctx, in.RecoveryID)
	if err != nil {
		return RecoverResult{}, classify(err)
	}
	reqNo := bank.RequestNo("recovery", rec.ID)
	outcome, plan, res, code, err := sendBatch(ctx, a, reqNo, "recovery", func() (bank.BatchRequest, recoveryPlan, bool, error) {
		return a.planRecovery(ctx, rec, reqNo)
	})
	if err != nil {
		return RecoverResult{}, classify(err)
	}
	switch outcome {
	case outcomeApplied:
		return plan.Result, nil
	case outcomeDeclined, outcomeRefused:
		failed := plan.Result
		if outcome == outcomeRefused {
			failed = RecoverResult{Code: code, Amount: rec.Amount, Detail: "the bank refused the recovery batch: " + code}
			if code == bank.CodeInsufficientBalance {
				failed.Code = errs.InsufficientBalance
			}
		}
		return failed, classify(a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
			if outcome == outcomeRefused {
				if err := settle(ctx, q, reqNo, "recovery", false, code); err != nil {
					return err
				}
			}
			if err := recovery.Release(ctx, q, rec.ID); err != nil {
				return err
			}
			return q.RecoveryFinish(ctx, dbq.RecoveryFinishParams{ID: rec.ID, Status: "failed", Failure: failed.Code})
		}))
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		plan.Entry.BusinessDate = res.Day(rec.BusinessDate)
		if _, err := ledger.Post(ctx, tx, plan.Entry); err != nil {
			return err
		}
		if err := recovery.Book(ctx, q, rec.LoanID, plan.Shares); err != nil {
			return err
		}
		paid := map[int64]decimal.Decimal{}
		for _, s := range plan.Shares {
			if s.UserID != 0 {
				paid[s.UserID] = paid[s.UserID].Add(s.Amount)
			}
		}
		if err := q.RecoveryFinish(ctx, dbq.RecoveryFinishParams{ID: rec.ID, Status: "succeeded"}); err != nil {
			return err
		}
		if err := history(ctx, q, rec.LoanID, recoveryRowsFrom+int(rec.ID), lending.StatusWrittenOff, rec.BusinessDate,
			fmt.Sprintf("recovery %d: %s recovered and paid to %d holders", rec.ID, rec.Amount.StringFixed(2), len(plan.Shares))); err != nil {
			return err
		}
		if err := a.notifyHolders(ctx, q, rec.LoanID, paid, lending.NoticeRecoveryReceived, reqNo, rec.BusinessDate,
			"Loan %d (written off): %s was recovered for you."); err != nil {
			return err
		}
		return settle(ctx, q, reqNo, "recovery", true, plan)
	})
	return plan.Result, classify(err)
}

func (a *Activities) planRecovery(ctx context.Context, rec dbq.Recovery, reqNo string) (bank.BatchRequest, recoveryPlan, bool, error) {
	plan := recoveryPlan{Result: RecoverResult{Amount: rec.Amount}}
	decline := func(code, format string, args ...any) (bank.BatchRequest, recoveryPlan, bool, error) {
		plan.Result.Code, plan.Result.Detail = code, fmt.Sprintf(format, args...)
		return bank.BatchRequest{}, plan, false, nil
	}
	loan, err := a.q.LoanGet(ctx, rec.LoanID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if loan.Status != lending.StatusWrittenOff {
		return decline(errs.InvalidState, "the loan is %s: recoveries follow a write-off", loan.Status)
	}
	shares, err := recovery.Shares(ctx, a.q, rec.ID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if len(shares) == 0 {
		return decline(errs.InvalidState, "recovery %d reserved nothing to distribute", rec.ID)
	}
	sum, err := ledger.AccountSummary(ctx, a.pool, loan.BorrowerID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	if sum.Available.LessThan(rec.Amount) {
		return decline(errs.InsufficientBalance, "the borrower's available %s does not cover %s", sum.Available.StringFixed(2), rec.Amount.StringFixed(2))
	}
	accounts, err := a.accountNos(ctx, []int64{loan.BorrowerID})
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	borrower := accounts[loan.BorrowerID]
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: "recovery"}
	plan.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeRecovery, Ref: loanRef(loan.ID),
		Postings: []ledger.Posting{{Account: ledger.UserAvailable(loan.BorrowerID), Amount: rec.Amount.Neg(), Counterpart: "claim holders"}}}
	for _, sh := range shares {
		to, code := bank.AccountRiskReserve, ledger.PlatformRiskReserve
		if sh.UserID != 0 {
			if sh.CustodyAccountNo == nil {
				return decline(errs.NoCustodyAccount, "user %d has no custody account", sh.UserID)
			}
			to, code = *sh.CustodyAccountNo, ledger.UserAvailable(sh.UserID)
		}
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: borrower, To: to, Amount: sh.Amount})
		plan.Entry.Postings = append(plan.Entry.Postings, ledger.Posting{Account: code, Amount: sh.Amount, Counterpart: userRef(loan.BorrowerID)})
		plan.Shares = append(plan.Shares, sh)
		plan.Result.Distributed = append(plan.Result.Distributed, Distributed{Holder: sh.Holder, UserID: sh.UserID, Amount: sh.Amount})
	}
	plan.Result.Succeeded = true
	return batch, plan, true, nil
}
