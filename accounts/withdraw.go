package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/money"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// Withdraw pays amount out to the bound card (DOMAIN.md "Withdrawal fee",
// "Withdrawal route"). The route is judged at the business date with the
// wall clock's time of day; the fee is free for the first withdrawal of the
// business month; available must cover amount + fee. Refusals happen before
// the bank is asked. Accepted, the money leaves available at once (the bank
// does the same) and the withdrawal stays processing until the bank's signed
// callback, or the settlement sweep, brings the result. Errors:
// no_custody_account, withdrawal_window, insufficient_balance,
// bank_unavailable (the withdrawal stays processing and is settled later).
func (s *Service) Withdraw(ctx context.Context, userID int64, amount decimal.Decimal, today, now time.Time) (dbq.Withdrawal, error) {
	u, err := s.q.UserGet(ctx, userID)
	if err != nil {
		return dbq.Withdrawal{}, err
	}
	if u.CustodyAccountNo == nil {
		return dbq.Withdrawal{}, errs.New(errs.NoCustodyAccount, "open a custody account first")
	}
	clock := now.In(shanghai)
	at := time.Date(today.Year(), today.Month(), today.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, shanghai)
	route, err := money.WithdrawalRoute(amount, at, money.DefaultWorkday)
	if err != nil {
		return dbq.Withdrawal{}, errs.New(errs.WithdrawalWindow, "%s", err.Error())
	}

	var w dbq.Withdrawal
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.UserLockForMoney(ctx, int32(userID)); err != nil {
			return err
		}
		n, err := q.WithdrawalCountInMonth(ctx, dbq.WithdrawalCountInMonthParams{UserID: userID, OnDate: today})
		if err != nil {
			return err
		}
		fee := money.WithdrawalFee(amount, n > 0)
		sum, err := ledger.AccountSummary(ctx, tx, userID)
		if err != nil {
			return err
		}
		if sum.Available.LessThan(amount.Add(fee)) {
			return errs.New(errs.InsufficientBalance, "available %s does not cover %s and the fee %s",
				sum.Available.StringFixed(2), amount.StringFixed(2), fee.StringFixed(2))
		}
		w, err = q.WithdrawalInsert(ctx, dbq.WithdrawalInsertParams{UserID: userID, Amount: amount, Fee: fee, Route: string(route), BusinessDate: today})
		return err
	})
	if err != nil {
		return w, err
	}
	return s.sendWithdrawal(ctx, w, *u.CustodyAccountNo)
}

// sendWithdrawal asks the bank (again, under the same request number, when
// settling) and records what it answered.
func (s *Service) sendWithdrawal(ctx context.Context, w dbq.Withdrawal, accountNo string) (dbq.Withdrawal, error) {
	reqNo := bank.Withdrawal(w.ID)
	res, err := s.bank.Withdraw(ctx, bank.WithdrawRequest{RequestNo: reqNo, AccountNo: accountNo, Amount: w.Amount, Fee: w.Fee, Route: bank.Route(w.Route)})
	var be *bank.Error
	switch {
	case errors.As(err, &be) && !be.Retryable:
		out, serr := s.q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "failed", ID: w.ID, FromStatuses: []string{"processing"}})
		if serr != nil {
			return w, serr
		}
		return out, bankRefusal(err)
	case err != nil:
		s.log.Warn("withdrawal unanswered; left processing", "withdrawal", w.ID, "error", err)
		return w, errs.New(errs.BankUnavailable, "the bank did not answer; the withdrawal is processing and will be settled")
	}
	return s.applyWithdrawal(ctx, w, res.Status, res.BusinessDate)
}

// applyWithdrawal moves a withdrawal to the bank's status, mirroring each
// step in the ledger once: acceptance debits available (amount to the card,
// fee to the fee account); a reversal (冲正) credits the amount back. Any
// order or repetition of results leaves the same end state.
func (s *Service) applyWithdrawal(ctx context.Context, w dbq.Withdrawal, status bank.Status, bankDate string) (dbq.Withdrawal, error) {
	on := w.BusinessDate
	if d, err := time.Parse(time.DateOnly, bankDate); err == nil {
		on = d
	}
	reqNo := bank.Withdrawal(w.ID)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		// A failed result is only ever the bank's answer to the request
		// itself, before any debit: the custody bank never fails a withdrawal
		// it accepted (it reverses it instead), so nothing was booked to undo.
		if status == bank.StatusFailed {
			out, err := q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "failed", ID: w.ID, FromStatuses: []string{"processing"}})
			if err == nil {
				w = out
			}
			return ignoreNoRows(err)
		}
		// Accepted, succeeded or reversed: the debit happened at the bank, on
		// the bank's business date (a withdrawal settled late by the sweep is
		// dated when the bank did it, so each day's file still reconciles).
		if _, err := ledger.Post(ctx, tx, ledger.Withdrawal(reqNo, w.UserID, w.Amount, w.Fee, on)); err != nil {
			return err
		}
		var out dbq.Withdrawal
		switch status {
		case bank.StatusSucceeded:
			out, err = q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "succeeded", ID: w.ID, FromStatuses: []string{"processing"}})
		case bank.StatusReversed:
			if _, err := ledger.Post(ctx, tx, ledger.WithdrawalReversal(reqNo+"-reversal", w.UserID, w.Amount, "withdrawal:"+strconv.FormatInt(w.ID, 10), on)); err != nil {
				return err
			}
			out, err = q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "reversed", ID: w.ID, FromStatuses: []string{"processing", "succeeded"}})
		default:
			return nil // still processing at the bank
		}
		if err == nil {
			w = out
		}
		return ignoreNoRows(err)
	})
	if err != nil {
		return w, err
	}
	return s.q.WithdrawalGet(ctx, w.ID)
}

// ErrUnknownRequest: a callback for a request number the platform never sent.
var ErrUnknownRequest = errors.New("unknown request number")

// ApplyCallback applies the bank's signed result for a withdrawal. The
// amount must match what the platform asked for; a mismatch is refused and
// left for reconciliation rather than booked.
func (s *Service) ApplyCallback(ctx context.Context, cb bank.Callback) (dbq.Withdrawal, error) {
	id, ok := withdrawalID(cb.RequestNo)
	if !ok {
		return dbq.Withdrawal{}, ErrUnknownRequest
	}
	w, err := s.q.WithdrawalGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, ErrUnknownRequest
	}
	if err != nil {
		return w, err
	}
	if !cb.Amount.Equal(w.Amount) || !cb.Fee.Equal(w.Fee) {
		s.log.Error("bank callback amount differs from the withdrawal; not applied", "withdrawal", id,
			"asked", w.Amount.StringFixed(2), "fee", w.Fee.StringFixed(2), "bank", cb.Amount.StringFixed(2), "bank_fee", cb.Fee.StringFixed(2))
		return w, errs.New(errs.Conflict, "amount %s ≠ %s", cb.Amount.StringFixed(2), w.Amount.StringFixed(2))
	}
	return s.applyWithdrawal(ctx, w, cb.Status, cb.BusinessDate)
}

func withdrawalID(reqNo string) (int64, bool) {
	rest, ok := strings.CutPrefix(reqNo, "withdrawal-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && bank.Withdrawal(id) == reqNo
}

// SettlePending finishes recharges and withdrawals whose result the
// platform has not heard (a lost answer, a dropped callback): a recharge and
// a withdrawal alike by sending it again under the same request number, which
// the bank does once and otherwise answers with its current result.
func (s *Service) SettlePending(ctx context.Context, olderThan time.Duration) (int, error) {
	before := time.Now().Add(-olderThan)
	settled := 0
	rcs, err := s.q.RechargeListProcessing(ctx, before)
	if err != nil {
		return 0, err
	}
	for _, rc := range rcs {
		u, err := s.q.UserGet(ctx, rc.UserID)
		if err != nil || u.CustodyAccountNo == nil || u.CardNumber == nil {
			continue
		}
		res, err := s.bank.Recharge(ctx, bank.RechargeRequest{RequestNo: bank.Recharge(rc.ID), AccountNo: *u.CustodyAccountNo, CardNumber: *u.CardNumber, Amount: rc.Amount})
		var be *bank.Error
		if errors.As(err, &be) && !be.Retryable {
			res = bank.Result{RequestNo: bank.Recharge(rc.ID), Status: bank.StatusFailed, Code: be.Code}
		} else if err != nil {
			continue
		}
		if _, err := s.settleRecharge(ctx, rc, res, rc.BusinessDate); err != nil {
			return settled, fmt.Errorf("recharge %d: %w", rc.ID, err)
		}
		settled++
	}
	ws, err := s.q.WithdrawalListProcessingBefore(ctx, before)
	if err != nil {
		return settled, err
	}
	for _, w := range ws {
		u, err := s.q.UserGet(ctx, w.UserID)
		if err != nil || u.CustodyAccountNo == nil {
			continue
		}
		out, err := s.sendWithdrawal(ctx, w, *u.CustodyAccountNo)
		if errs.Code(err) == errs.BankUnavailable {
			continue
		}
		if out.Status != "processing" {
			settled++
		}
	}
	return settled, nil
}

func ignoreNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // already there: a repeated or older result
	}
	return err
}
