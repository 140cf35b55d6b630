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
	"github.com/lendflow/lendflow/money"
)

// recoveryPlan is what a recovery applies once the bank has made its batch.
type recoveryPlan struct {
	Result RecoverResult
	Shares []recoveryShare
	Entry  ledger.Entry
}

type recoveryShare struct {
	HolderKey string
	Holder    string
	UserID    int64
	Amount    decimal.Decimal
}

// recoveryRowsFrom: a recovery's history row on its loan, whose own workflow
// has ended, takes a step number far above any the loan's workflow used.
const recoveryRowsFrom = 1_000_000

// Recover distributes money recovered after a write-off (docs/rules.md
// "write-off"): debited from the borrower's available balance, paid to the
// claim holders pro rata to what each still has unrecovered of its loss, to
// the cent (largest remainder, ties to the earlier holder: investors by bid,
// then the guarantor, then the reserve), in one bank batch.
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
			return q.RecoveryFinish(ctx, dbq.RecoveryFinishParams{ID: rec.ID, Status: "failed", Failure: failed.Code})
		}))
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		plan.Entry.BusinessDate = bankDay(res, rec.BusinessDate)
		if _, err := ledger.Post(ctx, tx, plan.Entry); err != nil {
			return err
		}
		paid := map[int64]decimal.Decimal{}
		for _, s := range plan.Shares {
			var user *int64
			if s.UserID != 0 {
				u := s.UserID
				user = &u
				paid[u] = paid[u].Add(s.Amount)
			}
			if err := q.WriteOffLossRecover(ctx, dbq.WriteOffLossRecoverParams{LoanID: rec.LoanID, HolderKey: s.HolderKey, Amount: s.Amount}); err != nil {
				return err
			}
			if err := q.RecoveryShareInsert(ctx, dbq.RecoveryShareInsertParams{RecoveryID: rec.ID, HolderKey: s.HolderKey, UserID: user, Amount: s.Amount}); err != nil {
				return err
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
	losses, err := a.q.WriteOffLossList(ctx, loan.ID)
	if err != nil {
		return bank.BatchRequest{}, plan, false, err
	}
	weights := make([]decimal.Decimal, len(losses))
	left := decimal.Zero
	for i, l := range losses {
		weights[i] = l.Amount.Sub(l.Recovered)
		left = left.Add(weights[i])
	}
	if rec.Amount.GreaterThan(left) {
		return decline(errs.ValidationFailed, "%s is more than the %s the holders have still to recover", rec.Amount.StringFixed(2), left.StringFixed(2))
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
	for i, share := range money.Split(rec.Amount, weights) {
		if share.Sign() == 0 {
			continue
		}
		l := losses[i]
		s := recoveryShare{HolderKey: l.HolderKey, Holder: l.Holder, Amount: share}
		to, code := bank.AccountRiskReserve, ledger.PlatformRiskReserve
		if l.UserID != nil {
			s.UserID = *l.UserID
			if l.CustodyAccountNo == nil {
				return bank.BatchRequest{}, plan, false, errs.New(errs.NoCustodyAccount, "user %d has no custody account", s.UserID)
			}
			to, code = *l.CustodyAccountNo, ledger.UserAvailable(s.UserID)
		}
		batch.Transfers = append(batch.Transfers, bank.Transfer{From: borrower, To: to, Amount: share})
		plan.Entry.Postings = append(plan.Entry.Postings, ledger.Posting{Account: code, Amount: share, Counterpart: userRef(loan.BorrowerID)})
		plan.Shares = append(plan.Shares, s)
		plan.Result.Distributed = append(plan.Result.Distributed, Distributed{Holder: s.Holder, UserID: s.UserID, Amount: share})
	}
	plan.Result.Succeeded = true
	return batch, plan, true, nil
}
