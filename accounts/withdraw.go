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
	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Withdraw pays amount out to the bound card (docs/rules.md "Withdrawal fee",
// "Withdrawal route"). The route is judged at the business date with the
// wall clock's time of day, on the bank's calendar of workdays (calendar/); the
// month's one free withdrawal is taken by a free withdrawal that stands (not
// failed, not reversed); the fee is free for the first withdrawal of the
// business month; what the user may spend (available minus what is in
// flight: bids and withdrawals the bank has not answered) must cover amount +
// fee, judged under the user's lock, so concurrent withdrawals and bids by
// one user cannot overspend. Refusals happen before the bank is asked.
// Accepted, the money leaves available at once (the bank does the same) and
// the withdrawal stays processing until the bank's signed callback, or the
// settlement sweep, brings the result. Errors: no_custody_account,
// account_locked, withdrawal_window, insufficient_balance, bank_unavailable (the withdrawal
// stays processing and is settled later).
func (s *Service) Withdraw(ctx context.Context, userID int64, amount decimal.Decimal, today, now time.Time) (Withdrawal, error) {
	return s.WithdrawOnce(ctx, "", userID, amount, today, now)
}

// WithdrawOnce is Withdraw under the caller's Idempotency-Key
// (docs/idempotency.md): the withdrawal row carries the key, written in the
// transaction that checks the balance and before the bank is asked, so the
// same key never withdraws twice; sent again, it answers that withdrawal as
// it is now. The key with another amount is idempotency_key_reused. An empty
// key is Withdraw; a zero today is the platform's business date.
func (s *Service) WithdrawOnce(ctx context.Context, key string, userID int64, amount decimal.Decimal, today, now time.Time) (Withdrawal, error) {
	today, err := s.businessDate(ctx, today)
	if err != nil {
		return Withdrawal{}, err
	}
	w, err := s.withdraw(ctx, key, userID, amount, today, now)
	return withdrawalFrom(w), err
}

func (s *Service) withdraw(ctx context.Context, key string, userID int64, amount decimal.Decimal, today, now time.Time) (dbq.Withdrawal, error) {
	keyp := idempotency.Key(key)
	// Sent again, the request is answered before any rule is judged again:
	// the withdrawal it made is the answer, whatever changed since.
	if prev, found, err := s.madeBy(ctx, s.q, keyp, userID, amount); found || err != nil {
		return prev, err
	}
	u, err := s.q.UserGet(ctx, userID)
	if err != nil {
		return dbq.Withdrawal{}, err
	}
	if u.CustodyAccountNo == nil {
		return dbq.Withdrawal{}, errs.New(errs.NoCustodyAccount, "open a custody account first")
	}
	if u.Locked { // ops locked the user (POST /v1/ops/users/{id}/lock)
		return dbq.Withdrawal{}, errs.New(errs.AccountLocked, "the account is locked")
	}
	clock := now.In(lending.Shanghai)
	at := time.Date(today.Year(), today.Month(), today.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, lending.Shanghai)
	// The large-value window follows the bank's calendar (holidays and make-up
	// workdays ops set); only a withdrawal above the limit needs it.
	isWorkday := money.DefaultWorkday
	if amount.GreaterThan(money.SuperEBankLimit) {
		if isWorkday, err = calendar.Workdays(ctx, s.pool, today, today.AddDate(0, 0, 1)); err != nil {
			return dbq.Withdrawal{}, err
		}
	}
	route, err := money.WithdrawalRoute(amount, at, isWorkday)
	if err != nil {
		return dbq.Withdrawal{}, errs.New(errs.WithdrawalWindow, "%s", err.Error())
	}

	var w dbq.Withdrawal
	var repeat bool
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := q.UserLockForMoney(ctx, int32(userID)); err != nil {
			return err
		}
		var err error
		if w, repeat, err = s.madeBy(ctx, q, keyp, userID, amount); repeat || err != nil {
			return err
		}
		n, err := q.WithdrawalFreeInMonth(ctx, dbq.WithdrawalFreeInMonthParams{UserID: userID, OnDate: today})
		if err != nil {
			return err
		}
		fee := money.WithdrawalFee(amount, n > 0)
		sp, err := q.UserSpendable(ctx, userID)
		if err != nil {
			return err
		}
		if free := sp.Available.Sub(sp.InFlight); free.LessThan(amount.Add(fee)) {
			return errs.New(errs.InsufficientBalance, "available %s (%s of it in flight) does not cover %s and the fee %s",
				sp.Available.StringFixed(2), sp.InFlight.StringFixed(2), amount.StringFixed(2), fee.StringFixed(2))
		}
		w, err = q.WithdrawalInsert(ctx, dbq.WithdrawalInsertParams{UserID: userID, Amount: amount, Fee: fee, Route: string(route), BusinessDate: today, IdempotencyKey: keyp})
		return err
	})
	if err != nil || repeat {
		return w, err
	}
	// Once the row is written the bank is asked and its answer recorded even
	// if the client hangs up.
	return s.sendWithdrawal(context.WithoutCancel(ctx), w, *u.CustodyAccountNo)
}

// madeBy is the withdrawal the key made already, as it is now (found), to
// answer a request sent again under it (idempotency.Made).
func (s *Service) madeBy(ctx context.Context, q *dbq.Queries, key *string, userID int64, amount decimal.Decimal) (dbq.Withdrawal, bool, error) {
	return idempotency.Made(key, func(key *string) (dbq.Withdrawal, error) {
		return q.WithdrawalGetByKey(ctx, dbq.WithdrawalGetByKeyParams{UserID: userID, IdempotencyKey: key})
	}, func(w dbq.Withdrawal) bool { return w.Amount.Equal(amount) }, func(w dbq.Withdrawal) string {
		return fmt.Sprintf("withdrawal %d, of %s", w.ID, w.Amount.StringFixed(2))
	})
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
	return s.applyWithdrawal(ctx, w, heard{status: res.Status, takenOn: parseDay(res.BusinessDate)})
}

// heard is a result for a withdrawal, with the days its source tells. Each
// movement is booked on the bank's business date of that movement, the date
// of its line in the bank's file, or the day would not reconcile:
//   - takenOn: the day the bank took the request, when amount and fee left
//     available. The bank's answer to the request (first or repeated) and a
//     query carry it; a callback does not: its date is the day of the result.
//   - reversedOn: the day of a reversal (冲正). The reversal's callback and
//     the day's file carry it; an answer of "reversed" to a request or a
//     query does not.
type heard struct {
	status     bank.Status
	takenOn    time.Time
	reversedOn time.Time
	// changed, when set, is told whether this news moved the withdrawal's
	// status (false: another hearing of it had, or nothing was due).
	changed *bool
}

func (h heard) tellChanged() {
	if h.changed != nil {
		*h.changed = true
	}
}

func parseDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}
	}
	return d
}

// applyWithdrawal moves a withdrawal to the bank's status, mirroring each
// step in the ledger once: acceptance debits available (amount to the card,
// fee to the fee account); a reversal (冲正) credits the amount and the fee back. Any
// order or repetition of results leaves the same end state.
//
// A reversal heard without its day is booked as far as is known, the
// withdrawal succeeded, and left to the reversal's callback or the day's
// file (ApplyFileReversals), which say when the money came back.
func (s *Service) applyWithdrawal(ctx context.Context, w dbq.Withdrawal, h heard) (dbq.Withdrawal, error) {
	reqNo := bank.Withdrawal(w.ID)
	if h.status == bank.StatusReversed && h.reversedOn.IsZero() {
		h.status = bank.StatusSucceeded
	}
	if h.status != bank.StatusFailed && h.takenOn.IsZero() {
		_, err := s.q.JournalEntryGetByKey(ctx, dbq.JournalEntryGetByKeyParams{RequestNo: reqNo})
		switch {
		case err == nil: // booked already
		case !errors.Is(err, db.ErrNotFound):
			return w, err
		default:
			// First news of the withdrawal's acceptance: ask the bank which
			// day it took it. Unanswered, the caller tries again later (a
			// callback answered 5xx is sent again).
			res, err := s.bank.Query(ctx, reqNo)
			if err != nil {
				return w, fmt.Errorf("withdrawal %d: when did the bank take it: %w", w.ID, err)
			}
			if h.takenOn = parseDay(res.BusinessDate); h.takenOn.IsZero() {
				return w, fmt.Errorf("withdrawal %d: the bank's answer has no business date", w.ID)
			}
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		// A failed result is only ever the bank's answer to the request
		// itself, before any debit: the custody bank never fails a withdrawal
		// it accepted (it reverses it instead), so nothing was booked to undo.
		if h.status == bank.StatusFailed {
			out, err := q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "failed", ID: w.ID, FromStatuses: []string{"processing"}})
			if err == nil {
				w = out
				h.tellChanged()
			}
			return ignoreNoRows(err)
		}
		// Accepted, succeeded or reversed: the debit happened at the bank.
		if !h.takenOn.IsZero() { // zero: booked already
			if _, err := ledger.Post(ctx, tx, ledger.Withdrawal(reqNo, w.UserID, w.Amount, w.Fee, h.takenOn)); err != nil {
				return err
			}
		}
		var out dbq.Withdrawal
		switch h.status {
		case bank.StatusSucceeded:
			out, err = q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "succeeded", ID: w.ID, FromStatuses: []string{"processing"}})
		case bank.StatusReversed:
			if _, err := ledger.Post(ctx, tx, ledger.WithdrawalReversal(ReversalNo(reqNo), w.UserID, w.Amount, w.Fee, "withdrawal:"+strconv.FormatInt(w.ID, 10), h.reversedOn)); err != nil {
				return err
			}
			out, err = q.WithdrawalSetStatus(ctx, dbq.WithdrawalSetStatusParams{ToStatus: "reversed", ID: w.ID, FromStatuses: []string{"processing", "succeeded"}})
		default:
			return nil // still processing at the bank
		}
		if err != nil {
			return ignoreNoRows(err)
		}
		w = out
		h.tellChanged()
		return tell(ctx, q, w, h)
	})
	if err != nil {
		return w, err
	}
	return s.q.WithdrawalGet(ctx, w.ID)
}

// tell notifies the user of a withdrawal's outcome, once (docs/rules.md "contact").
func tell(ctx context.Context, q *dbq.Queries, w dbq.Withdrawal, h heard) error {
	n := contact.Notice{UserID: w.UserID, Amount: &w.Amount, On: w.BusinessDate,
		Dedupe: bank.Withdrawal(w.ID) + "-" + w.Status}
	switch w.Status {
	case "succeeded":
		n.Kind = lending.NoticeWithdrawalSucceeded
		n.Message = "Your withdrawal of " + w.Amount.StringFixed(2) + " has reached your card."
	case "reversed":
		n.Kind, n.On = lending.NoticeWithdrawalReversed, h.reversedOn
		n.Message = "Your withdrawal of " + w.Amount.StringFixed(2) + " was reversed by the bank (冲正); the amount"
		if w.Fee.IsPositive() {
			n.Message += " and its fee of " + w.Fee.StringFixed(2) + " are"
		} else {
			n.Message += " is"
		}
		n.Message += " back in your available balance."
	default:
		return nil
	}
	return contact.Write(ctx, q, n)
}

// ReversalNo is the ledger's request number for a withdrawal's reversal: the
// bank names both movements by the withdrawal's number, and the ledger keys
// each entry by its number, so the reversal takes a number of its own. It
// is derived, so a reversal heard twice (callback and file) is booked once.
func ReversalNo(withdrawalNo string) string { return withdrawalNo + "-reversal" }

// ErrUnknownRequest: a callback for a request number the platform never sent.
var ErrUnknownRequest = errors.New("unknown request number")

// CallbackOutcome is what a callback did, as the bank is answered: so a
// replayed callback is told that nothing happened (issue 25).
type CallbackOutcome string

// Callback outcomes.
const (
	CallbackApplied        CallbackOutcome = "applied"         // this callback moved the withdrawal
	CallbackAlreadyApplied CallbackOutcome = "already_applied" // a repeat, or older than what was applied
)

// ApplyCallback applies the bank's signed result for a withdrawal. Before
// anything is booked the callback must be the withdrawal's (bank.Callback):
// kind withdrawal, the user's custody account, the amount and fee the
// platform asked for, and a Seq that fits its status (1 for the first final
// result, 2 for a reversal). One that does not is refused and left for
// reconciliation rather than booked. A Seq not above the last one applied
// (the withdrawal's status says which: processing 0, succeeded or failed 1,
// reversed 2) is a repeat or came late, and changes nothing: its outcome is
// CallbackAlreadyApplied, as is that of a callback another hearing of the
// same result (a duplicate arriving at once, the sweep) beat to it. Errors:
// ErrUnknownRequest, conflict (a field differs), and any error reaching the
// bank or the database (the callback should be sent again).
func (s *Service) ApplyCallback(ctx context.Context, cb bank.Callback) (Withdrawal, CallbackOutcome, error) {
	var changed bool
	w, err := s.applyCallback(ctx, cb, &changed)
	if changed {
		return withdrawalFrom(w), CallbackApplied, err
	}
	return withdrawalFrom(w), CallbackAlreadyApplied, err
}

// seqOf is the Seq of the last result applied to a withdrawal in status.
func seqOf(status string) int {
	switch bank.Status(status) {
	case bank.StatusSucceeded, bank.StatusFailed:
		return 1
	case bank.StatusReversed:
		return 2
	}
	return 0
}

func (s *Service) applyCallback(ctx context.Context, cb bank.Callback, changed *bool) (dbq.Withdrawal, error) {
	id, ok := withdrawalID(cb.RequestNo)
	if !ok {
		return dbq.Withdrawal{}, ErrUnknownRequest
	}
	w, err := s.q.WithdrawalGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return w, ErrUnknownRequest
	}
	if err != nil {
		return w, err
	}
	u, err := s.q.UserGet(ctx, w.UserID)
	if err != nil {
		return w, err
	}
	var why string
	switch {
	case cb.Kind != "withdrawal":
		why = fmt.Sprintf("kind %q is not a withdrawal", cb.Kind)
	case u.CustodyAccountNo == nil || cb.AccountNo != *u.CustodyAccountNo:
		why = fmt.Sprintf("account %q is not the withdrawal's", cb.AccountNo)
	case !cb.Amount.Equal(w.Amount) || !cb.Fee.Equal(w.Fee):
		why = fmt.Sprintf("amount %s and fee %s, not %s and %s", cb.Amount.StringFixed(2), cb.Fee.StringFixed(2), w.Amount.StringFixed(2), w.Fee.StringFixed(2))
	case cb.Seq != seqOf(string(cb.Status)) || cb.Seq == 0:
		why = fmt.Sprintf("seq %d does not fit status %q", cb.Seq, cb.Status)
	}
	if why != "" {
		s.log.Error("bank callback is not the withdrawal's; not applied", "withdrawal", id, "request_no", cb.RequestNo, "why", why)
		return w, errs.New(errs.Conflict, "the callback is not withdrawal %d's: %s", id, why)
	}
	if cb.Seq <= seqOf(w.Status) {
		return w, nil // applied already, or older than what was
	}
	h := heard{status: cb.Status, changed: changed}
	if cb.Status == bank.StatusReversed {
		h.reversedOn = parseDay(cb.BusinessDate)
	}
	return s.applyWithdrawal(ctx, w, h)
}

// ApplyFileReversals books the withdrawal reversals (冲正) of a day's
// reconciliation file that the platform has not booked: those whose
// callback never came (docs/rules.md "Withdrawal route": a confirmed withdrawal
// can be reversed by the reconciliation file). A line whose amount is not
// the withdrawal's is not booked; it is logged, and the day's reconciliation
// reports it. It answers how many reversals it booked.
func (s *Service) ApplyFileReversals(ctx context.Context, lines []bank.ReconciliationLine) (int, error) {
	n := 0
	for _, l := range lines {
		if l.Type != bank.MoveWithdrawalReversal || l.Item != 0 {
			continue // item 1 is the fee's return, booked with the amount's
		}
		id, ok := withdrawalID(l.RequestNo)
		if !ok {
			s.log.Error("reconciliation file reverses a withdrawal the platform never sent", "request_no", l.RequestNo)
			continue
		}
		w, err := s.q.WithdrawalGet(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			s.log.Error("reconciliation file reverses a withdrawal the platform never sent", "request_no", l.RequestNo)
			continue
		}
		if err != nil {
			return n, err
		}
		if w.Status == "reversed" {
			continue
		}
		if !l.Amount.Equal(w.Amount) {
			s.log.Error("reconciliation file reverses another amount than the withdrawal's; not applied", "withdrawal", id,
				"asked", w.Amount.StringFixed(2), "bank", l.Amount.StringFixed(2))
			continue
		}
		if _, err := s.applyWithdrawal(ctx, w, heard{status: bank.StatusReversed, reversedOn: l.BusinessDate}); err != nil {
			return n, fmt.Errorf("withdrawal %d: %w", id, err)
		}
		s.log.Info("withdrawal reversal booked from the reconciliation file", "withdrawal", id, "on", l.BusinessDate.Format(time.DateOnly))
		n++
	}
	return n, nil
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
		u, err := s.user(ctx, rc.UserID)
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
	if errors.Is(err, db.ErrNotFound) {
		return nil // already there: a repeated or older result
	}
	return err
}

// Withdrawal is one of the user's withdrawals. Errors: not_found (none, or
// another user's: the same answer, so ids reveal nothing).
func (s *Service) Withdrawal(ctx context.Context, userID, id int64) (Withdrawal, error) {
	w, err := s.q.WithdrawalGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && w.UserID != userID) {
		return Withdrawal{}, errs.New(errs.NotFound, "no such withdrawal")
	}
	return withdrawalFrom(w), err
}
