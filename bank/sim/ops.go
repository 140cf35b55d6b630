package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim/simdb"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/groupcommit"
	"github.com/lendflow/lendflow/kyc"
)

// Request kinds, as stored and as bank.Result.Kind.
const (
	kindOpenAccount = "open_account"
	kindChangeCard  = "change_card"
	kindRecharge    = "recharge"
	kindWithdrawal  = "withdrawal"
	kindFreeze      = "freeze"
	kindUnfreeze    = "unfreeze"
	kindTransfer    = "transfer"
	kindBatch       = "batch"
	kindDeposit     = "deposit"
	kindBonusTopUp  = "bonus_top_up"
)

const codeInvalidRequest = bank.CodeInvalidRequest

// Refusals of the caller, not of the request: unsigned (401), or an admin
// call from off the machine (403).
const (
	codeUnauthenticated = "unauthenticated"
	codeForbidden       = "forbidden"
)

// largeValueThreshold is the most super e-banking carries (docs/rules.md
// "Withdrawal route").
var largeValueThreshold = decimal.New(50000, 0)

// maxAmount keeps amounts well inside NUMERIC(20,2).
var maxAmount = decimal.New(1, 15)

// refusal is the bank saying no. Recorded refusals become the request's final
// result; unrecorded ones (see package doc) are answered and forgotten.
type refusal struct {
	code, msg string
	record    bool
}

func (r *refusal) Error() string { return r.code + ": " + r.msg }

func refuse(code, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...), record: true}
}

// refuseNow refuses without recording, for answers that depend on the
// content alone (a repeat gets the same answer anyway, and a caller may send
// corrected content under the same number, as a user retyping a card does)
// or on something missing that may yet appear.
func refuseNow(code, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

// invalid is a malformed request, refused before any state is read.
func invalid(format string, args ...any) *refusal {
	return &refusal{code: codeInvalidRequest, msg: fmt.Sprintf(format, args...)}
}

// outcome is what successful work leaves on the request's row.
type outcome struct {
	status    bank.Status
	accountNo string
	amount    decimal.Decimal
	fee       decimal.Decimal
}

// op is one request: its identity and content, and the work it does in the
// transaction that records it.
type op struct {
	kind      string
	requestNo string
	content   any
	work      func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error)
	// schedules: the work may add jobs, so the workers are kicked after it.
	schedules bool
}

// digest is a request's content as stored and the hash a repeat is told
// from a reuse by.
func digest(kind string, c any) (content []byte, hash string, err error) {
	content, err = json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(append([]byte(kind+"\n"), content...))
	return content, hex.EncodeToString(sum[:]), nil
}

// exec does op's work once per request number. The request row is inserted
// first, in the same transaction as the work: a concurrent duplicate blocks
// on the primary key until this transaction ends, then reads the committed
// result, so two arrivals of one number can never both do the work. A
// refusal rolls the whole transaction back, work and row, and is recorded in
// a transaction of its own: the path that is not refused, nearly every
// request, needs no savepoint. Between the two the number is free again,
// and if a duplicate takes it and does the work, the refusal is not
// recorded: the duplicate's result is the number's, and is answered.
// Freezes come here only when their one statement (FreezeApply) wrote
// nothing: refused, their number taken, or an error.
func (s *Sim) exec(ctx context.Context, o op) (simdb.Request, error) {
	content, hash, err := digest(o.kind, o.content)
	if err != nil {
		return simdb.Request{}, err
	}
	ins := simdb.RequestInsertTodayParams{RequestNo: o.requestNo, Kind: o.kind, ContentHash: hash, Content: content, WallToday: wallToday()}
	// recorded answers a number taken already: its row, unless it was
	// taken for other content.
	recorded := func(q *simdb.Queries) (simdb.Request, error) {
		row, err := q.RequestGet(ctx, o.requestNo)
		if err == nil && row.ContentHash != hash {
			err = &refusal{code: bank.CodeRequestNoReused,
				msg: fmt.Sprintf("request number %s was used for a different %s request", o.requestNo, row.Kind)}
		}
		return row, err
	}
	var row simdb.Request
	var refused *refusal
	var refusedOut outcome
	err = s.retryTx(ctx, func(tx pgx.Tx) error {
		refused = nil
		q := queries(tx)
		today, err := q.RequestInsertToday(ctx, ins)
		if errors.Is(err, db.ErrNotFound) {
			row, err = recorded(q)
			return err
		}
		if err != nil {
			return err
		}
		out, werr := o.work(ctx, q, today)
		if errors.As(werr, &refused) {
			refusedOut = out
			return refused
		}
		if werr != nil {
			return werr
		}
		if out.status == "" {
			out.status = bank.StatusSucceeded
		}
		row, err = q.RequestFinish(ctx, simdb.RequestFinishParams{
			RequestNo: o.requestNo, Status: string(out.status), AccountNo: out.accountNo, Amount: out.amount, Fee: out.fee,
		})
		return err
	})
	if refused != nil && errors.Is(err, refused) && refused.record {
		ref, out := refused, refusedOut
		err = s.retryTx(ctx, func(tx pgx.Tx) error {
			q := queries(tx)
			_, err := q.RequestInsertToday(ctx, ins)
			if errors.Is(err, db.ErrNotFound) {
				row, err = recorded(q)
				return err
			}
			if err != nil {
				return err
			}
			row, err = q.RequestFinish(ctx, simdb.RequestFinishParams{
				RequestNo: o.requestNo, Status: string(bank.StatusFailed), Code: ref.code, Message: ref.msg,
				AccountNo: out.accountNo, Amount: out.amount, Fee: out.fee,
			})
			return err
		})
	}
	if err == nil && o.schedules {
		s.kick()
	}
	return row, err
}

// retryTx runs fn in a transaction, again when PostgreSQL aborted it for a
// deadlock or serialization failure: nothing of it was committed, so running
// it again cannot do anything twice.
func (s *Sim) retryTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		var pgErr *pgconn.PgError
		if attempt < 5 && errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			continue
		}
		return err
	}
}

func checkAmount(name string, a decimal.Decimal, allowZero bool) error {
	switch {
	case a.IsNegative() || (a.IsZero() && !allowZero):
		return invalid("%s must be positive, not %s", name, a)
	case !a.Equal(a.Round(2)):
		return invalid("%s %s has more than 2 decimal places", name, a)
	case a.GreaterThanOrEqual(maxAmount):
		return invalid("%s %s is too large", name, a)
	}
	return nil
}

func need(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.TrimSpace(fields[i+1]) == "" {
			return invalid("%s is required", fields[i])
		}
	}
	return nil
}

// lockAccounts locks the named accounts in account-number order (see
// AccountListForUpdate) and refuses when one does not exist.
func lockAccounts(ctx context.Context, q *simdb.Queries, nos ...string) (map[string]*simdb.Account, error) {
	uniq := map[string]bool{}
	var list []string
	for _, n := range nos {
		if !uniq[n] {
			uniq[n] = true
			list = append(list, n)
		}
	}
	sort.Strings(list)
	rows, err := q.AccountListForUpdate(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*simdb.Account, len(rows))
	for i := range rows {
		out[rows[i].AccountNo] = &rows[i]
	}
	for _, n := range list {
		if out[n] == nil {
			return nil, refuseNow(bank.CodeAccountNotFound, "account %s does not exist", n)
		}
	}
	return out, nil
}

func adjust(ctx context.Context, q *simdb.Queries, acct string, available, frozen decimal.Decimal) error {
	return q.AccountAdjust(ctx, simdb.AccountAdjustParams{AccountNo: acct, AvailableDelta: available, FrozenDelta: frozen})
}

func move(ctx context.Context, q *simdb.Queries, reqNo string, item int, typ, from, to string, amount decimal.Decimal, freezeNo, purpose string, today time.Time) error {
	return q.MovementInsert(ctx, simdb.MovementInsertParams{
		RequestNo: reqNo, Item: int32(item), Type: typ, FromAccount: from, ToAccount: to, Amount: amount,
		FreezeRequestNo: freezeNo, Purpose: purpose, BusinessDate: today,
	})
}

var zero = decimal.Zero

// openAccount checks the four factors (四要素: name, ID number, phone, card)
// and opens a sub-account.
func (s *Sim) openAccount(ctx context.Context, r bank.OpenAccountRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo); err != nil {
		return simdb.Request{}, err
	}
	switch r.Kind {
	case bank.KindInvestor, bank.KindBorrower, bank.KindGuarantor:
	default:
		return simdb.Request{}, invalid("kind %q is not investor, borrower or guarantor", r.Kind)
	}
	switch {
	case strings.TrimSpace(r.Name) == "":
		return simdb.Request{}, refuseNow(bank.CodeFourFactorMismatch, "name is empty")
	case !kyc.ValidIDNumber(r.IDNumber):
		return simdb.Request{}, refuseNow(bank.CodeFourFactorMismatch, "ID number is not valid")
	case !kyc.ValidPhone(r.Phone):
		return simdb.Request{}, refuseNow(bank.CodeFourFactorMismatch, "phone is not valid")
	case !kyc.ValidCard(r.CardNumber):
		return simdb.Request{}, refuseNow(bank.CodeFourFactorMismatch, "card number is not valid")
	}
	return s.exec(ctx, op{kind: kindOpenAccount, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, _ time.Time) (outcome, error) {
			no, err := q.AccountOpen(ctx, simdb.AccountOpenParams{
				Kind: string(r.Kind), Name: r.Name, IDNumber: r.IDNumber, Phone: r.Phone, CardNumber: r.CardNumber,
			})
			return outcome{accountNo: no}, err
		}})
}

// changeCard binds a new card (换卡). Only an account that holds nothing and
// has nothing on its way to the old card may change (同卡进出, seed 003 §6.2).
func (s *Sim) changeCard(ctx context.Context, r bank.ChangeCardRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo, "account_no", r.AccountNo, "card_number", r.CardNumber); err != nil {
		return simdb.Request{}, err
	}
	if !kyc.ValidCard(r.CardNumber) {
		return simdb.Request{}, refuseNow(bank.CodeFourFactorMismatch, "card number is not valid")
	}
	return s.exec(ctx, op{kind: kindChangeCard, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, _ time.Time) (outcome, error) {
			out := outcome{accountNo: r.AccountNo}
			accts, err := lockAccounts(ctx, q, r.AccountNo)
			if err != nil {
				return out, err
			}
			a := accts[r.AccountNo]
			if a.Kind == "platform" {
				return out, refuse(bank.CodeAccountRestricted, "platform account %s has no card", a.AccountNo)
			}
			if !a.Available.Add(a.Frozen).IsZero() {
				return out, refuse(bank.CodeBalanceNotZero, "account holds %s available and %s frozen",
					a.Available.StringFixed(2), a.Frozen.StringFixed(2))
			}
			n, err := q.RequestCountProcessingWithdrawals(ctx, r.AccountNo)
			if err != nil {
				return out, err
			}
			if n > 0 {
				return out, refuse(bank.CodeBalanceNotZero, "%d withdrawal(s) to the bound card are still processing", n)
			}
			return out, q.AccountSetCard(ctx, simdb.AccountSetCardParams{AccountNo: r.AccountNo, CardNumber: r.CardNumber})
		}})
}

// recharge takes money in from the bound card only (同卡进出).
func (s *Sim) recharge(ctx context.Context, r bank.RechargeRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo, "account_no", r.AccountNo, "card_number", r.CardNumber); err != nil {
		return simdb.Request{}, err
	}
	if err := checkAmount("amount", r.Amount, false); err != nil {
		return simdb.Request{}, err
	}
	return s.exec(ctx, op{kind: kindRecharge, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{accountNo: r.AccountNo, amount: r.Amount}
			accts, err := lockAccounts(ctx, q, r.AccountNo)
			if err != nil {
				return out, err
			}
			a := accts[r.AccountNo]
			if a.Kind == "platform" {
				return out, refuse(bank.CodeAccountRestricted, "platform account %s is funded by deposit, not recharge", a.AccountNo)
			}
			if a.CardNumber != r.CardNumber {
				return out, refuse(bank.CodeCardMismatch, "card is not the one bound to %s", a.AccountNo)
			}
			if err := adjust(ctx, q, a.AccountNo, r.Amount, zero); err != nil {
				return out, err
			}
			return out, move(ctx, q, r.RequestNo, 0, bank.MoveRecharge, bank.CardAccount(a.CardNumber), a.AccountNo, r.Amount, "", "", today)
		}})
}

// withdraw accepts a withdrawal to the bound card: amount and fee leave the
// available balance now, the fee to P-FEE; the bank reports the result later.
func (s *Sim) withdraw(ctx context.Context, r bank.WithdrawRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo, "account_no", r.AccountNo); err != nil {
		return simdb.Request{}, err
	}
	if err := checkAmount("amount", r.Amount, false); err != nil {
		return simdb.Request{}, err
	}
	if err := checkAmount("fee", r.Fee, true); err != nil {
		return simdb.Request{}, err
	}
	if r.Route != bank.RouteSuperEBank && r.Route != bank.RouteLargeValue {
		return simdb.Request{}, invalid("route %q is not super_ebank or large_value", r.Route)
	}
	if r.Route == bank.RouteSuperEBank && r.Amount.GreaterThan(largeValueThreshold) {
		return simdb.Request{}, refuseNow(bank.CodeRouteNotAllowed, "super e-banking carries at most %s", largeValueThreshold.StringFixed(2))
	}
	return s.exec(ctx, op{kind: kindWithdrawal, requestNo: r.RequestNo, content: r, schedules: true,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{status: bank.StatusProcessing, accountNo: r.AccountNo, amount: r.Amount, fee: r.Fee}
			accts, err := lockAccounts(ctx, q, r.AccountNo, bank.AccountFee)
			if err != nil {
				return out, err
			}
			a := accts[r.AccountNo]
			if a.Kind == "platform" {
				return out, refuse(bank.CodeAccountRestricted, "platform account %s has no card to withdraw to", a.AccountNo)
			}
			total := r.Amount.Add(r.Fee)
			if a.Available.LessThan(total) {
				return out, refuse(bank.CodeInsufficientBalance, "available %s does not cover %s plus fee %s",
					a.Available.StringFixed(2), r.Amount.StringFixed(2), r.Fee.StringFixed(2))
			}
			if err := adjust(ctx, q, a.AccountNo, total.Neg(), zero); err != nil {
				return out, err
			}
			if err := move(ctx, q, r.RequestNo, 0, bank.MoveWithdrawal, a.AccountNo, bank.CardAccount(a.CardNumber), r.Amount, "", string(r.Route), today); err != nil {
				return out, err
			}
			if r.Fee.IsPositive() {
				if err := adjust(ctx, q, bank.AccountFee, r.Fee, zero); err != nil {
					return out, err
				}
				if err := move(ctx, q, r.RequestNo, 0, bank.MoveWithdrawalFee, a.AccountNo, bank.AccountFee, r.Fee, "", "", today); err != nil {
					return out, err
				}
			}
			return out, q.JobInsert(ctx, simdb.JobInsertParams{
				Kind: jobWithdrawalComplete, RequestNo: r.RequestNo, State: jobPending, DueAt: time.Now().Add(s.cfg.WithdrawalDelay),
			})
		}})
}

// freeze moves amount from available to frozen (投标冻结), named by its
// request number. Nearly every freeze is a bid's and is not refused, and the
// simulator shares its cores with the platform, so that path is one
// statement (FreezeApply), in a transaction shared with the freezes that
// arrive meanwhile (freeze.go): the work and the request's row together,
// where exec would insert the row first and finish it after the work, three
// more round trips, a second version of the row and a commit of its own.
// Anything else, a refusal, a number seen before, an error, wrote nothing
// and goes the long way, which decides it as every other request is decided.
func (s *Sim) freeze(ctx context.Context, r bank.FreezeRequest) (simdb.Request, error) {
	f, err := newFreezing(r)
	if err != nil {
		return simdb.Request{}, err
	}
	s.freezeQueued(ctx, f)
	return s.freezeDecided(ctx, f)
}

// newFreezing checks r and readies its statement.
func newFreezing(r bank.FreezeRequest) (*freezing, error) {
	if err := need("request_no", r.RequestNo, "account_no", r.AccountNo); err != nil {
		return nil, err
	}
	if err := checkAmount("amount", r.Amount, false); err != nil {
		return nil, err
	}
	content, hash, err := digest(kindFreeze, r)
	if err != nil {
		return nil, err
	}
	return &freezing{r: r, w: groupcommit.NewWaiter(), params: simdb.FreezeApplyParams{
		RequestNo: r.RequestNo, Kind: kindFreeze, ContentHash: hash, Content: content, Status: string(bank.StatusSucceeded),
		Amount: r.Amount, AccountNo: r.AccountNo, FeeAccount: bank.AccountFee, WallToday: wallToday(), MovementType: bank.MoveFreeze,
	}}, nil
}

// freezeDecided answers f once its group is over: the row the group
// committed, or the long way's result.
func (s *Sim) freezeDecided(ctx context.Context, f *freezing) (simdb.Request, error) {
	if f.applied {
		return f.row, nil
	}
	r := f.r
	return s.exec(ctx, op{kind: kindFreeze, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{accountNo: r.AccountNo, amount: r.Amount}
			accts, err := lockAccounts(ctx, q, r.AccountNo)
			if err != nil {
				return out, err
			}
			a := accts[r.AccountNo]
			if a.AccountNo == bank.AccountFee {
				return out, refuse(bank.CodeAccountRestricted, "the fee account only receives")
			}
			if a.Available.LessThan(r.Amount) {
				return out, refuse(bank.CodeInsufficientBalance, "available %s does not cover %s",
					a.Available.StringFixed(2), r.Amount.StringFixed(2))
			}
			if err := adjust(ctx, q, a.AccountNo, r.Amount.Neg(), r.Amount); err != nil {
				return out, err
			}
			if err := q.FreezeInsert(ctx, simdb.FreezeInsertParams{RequestNo: r.RequestNo, AccountNo: a.AccountNo, Amount: r.Amount}); err != nil {
				return out, err
			}
			return out, move(ctx, q, r.RequestNo, 0, bank.MoveFreeze, a.AccountNo, a.AccountNo, r.Amount, r.RequestNo, "", today)
		}})
}

// unfreeze releases a freeze back to available, once.
func (s *Sim) unfreeze(ctx context.Context, r bank.UnfreezeRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo, "freeze_request_no", r.FreezeRequestNo); err != nil {
		return simdb.Request{}, err
	}
	return s.exec(ctx, op{kind: kindUnfreeze, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			// Accounts are locked before freezes everywhere, so read the freeze
			// unlocked to learn its account, then lock both in that order.
			f, err := q.FreezeGet(ctx, r.FreezeRequestNo)
			if errors.Is(err, db.ErrNotFound) {
				return outcome{}, refuseNow(bank.CodeFreezeNotFound, "no freeze %s", r.FreezeRequestNo)
			}
			if err != nil {
				return outcome{}, err
			}
			out := outcome{accountNo: f.AccountNo, amount: f.Amount}
			if _, err := lockAccounts(ctx, q, f.AccountNo); err != nil {
				return out, err
			}
			f, err = q.FreezeGetForUpdate(ctx, r.FreezeRequestNo)
			if err != nil {
				return out, err
			}
			if f.State != "active" {
				return out, refuse(bank.CodeFreezeSpent, "freeze %s was %s by %s", f.RequestNo, f.State, f.ClosedBy)
			}
			if _, err := q.FreezeClose(ctx, simdb.FreezeCloseParams{RequestNo: f.RequestNo, ToState: "released", ClosedBy: r.RequestNo}); err != nil {
				return out, err
			}
			if err := adjust(ctx, q, f.AccountNo, f.Amount, f.Amount.Neg()); err != nil {
				return out, err
			}
			return out, move(ctx, q, r.RequestNo, 0, bank.MoveUnfreeze, f.AccountNo, f.AccountNo, f.Amount, f.RequestNo, "", today)
		}})
}

func checkTransfer(i int, t bank.Transfer) error {
	if err := need("from", t.From, "to", t.To); err != nil {
		return invalid("transfer %d: %s", i, err.(*refusal).msg)
	}
	if t.From == t.To {
		return invalid("transfer %d: from and to are both %s", i, t.From)
	}
	if err := checkAmount("amount", t.Amount, false); err != nil {
		return invalid("transfer %d: %s", i, err.(*refusal).msg)
	}
	return nil
}

// transfer is a single movement between accounts (compensation, bonus).
func (s *Sim) transfer(ctx context.Context, r bank.TransferRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo); err != nil {
		return simdb.Request{}, err
	}
	if err := checkTransfer(0, r.Transfer); err != nil {
		return simdb.Request{}, err
	}
	return s.exec(ctx, op{kind: kindTransfer, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			err := applyTransfers(ctx, q, r.RequestNo, bank.MoveTransfer, r.Purpose, []bank.Transfer{r.Transfer}, today)
			return outcome{accountNo: r.From, amount: r.Amount}, err
		}})
}

// batch moves every transfer or none (批次放款/还款).
func (s *Sim) batch(ctx context.Context, r bank.BatchRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo); err != nil {
		return simdb.Request{}, err
	}
	if len(r.Transfers) == 0 {
		return simdb.Request{}, invalid("a batch needs transfers")
	}
	total := decimal.Zero
	spends := map[string]bool{}
	for i, t := range r.Transfers {
		if err := checkTransfer(i, t); err != nil {
			return simdb.Request{}, err
		}
		if t.FreezeRequestNo != "" {
			if spends[t.FreezeRequestNo] {
				return simdb.Request{}, invalid("transfer %d: freeze %s is spent twice in the batch", i, t.FreezeRequestNo)
			}
			spends[t.FreezeRequestNo] = true
		}
		total = total.Add(t.Amount)
	}
	return s.exec(ctx, op{kind: kindBatch, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{amount: total}
			if s.faults.hit(s.faults.get().BatchFail, pointBatchFail, r.RequestNo) {
				return out, refuse(bank.CodeBatchFailed, "simulated batch processing failure: nothing moved; send a new batch")
			}
			return out, applyTransfers(ctx, q, r.RequestNo, bank.MoveBatch, r.Purpose, r.Transfers, today)
		}})
}

// applyTransfers moves the transfers in order, checking each debit against
// the balance the earlier ones left: a disbursement credits the borrower and
// then takes the fees from what it credited.
func applyTransfers(ctx context.Context, q *simdb.Queries, reqNo, typ, purpose string, ts []bank.Transfer, today time.Time) error {
	var nos []string
	for _, t := range ts {
		nos = append(nos, t.From, t.To)
	}
	accts, err := lockAccounts(ctx, q, nos...)
	if err != nil {
		return err
	}
	var freezeNos []string
	for _, t := range ts {
		if t.FreezeRequestNo != "" {
			freezeNos = append(freezeNos, t.FreezeRequestNo)
		}
	}
	sort.Strings(freezeNos)
	freezes := map[string]simdb.Freeze{}
	for _, no := range freezeNos {
		f, err := q.FreezeGetForUpdate(ctx, no)
		if errors.Is(err, db.ErrNotFound) {
			return refuseNow(bank.CodeFreezeNotFound, "no freeze %s", no)
		}
		if err != nil {
			return err
		}
		freezes[no] = f
	}
	avail := map[string]decimal.Decimal{}
	for no, a := range accts {
		avail[no] = a.Available
	}
	for i, t := range ts {
		if t.From == bank.AccountFee {
			return refuse(bank.CodeAccountRestricted, "transfer %d: the fee account only receives", i)
		}
		if t.To == bank.AccountBonus {
			return refuse(bank.CodeAccountRestricted, "transfer %d: the bonus account only pays", i)
		}
		if t.FreezeRequestNo != "" {
			f := freezes[t.FreezeRequestNo]
			switch {
			case f.State != "active":
				return refuse(bank.CodeFreezeSpent, "transfer %d: freeze %s was %s by %s", i, f.RequestNo, f.State, f.ClosedBy)
			case f.AccountNo != t.From:
				return refuse(codeInvalidRequest, "transfer %d: freeze %s belongs to %s, not %s", i, f.RequestNo, f.AccountNo, t.From)
			case !f.Amount.Equal(t.Amount):
				return refuse(codeInvalidRequest, "transfer %d: freeze %s holds %s, not %s", i, f.RequestNo, f.Amount.StringFixed(2), t.Amount.StringFixed(2))
			}
		} else {
			if avail[t.From].LessThan(t.Amount) {
				return refuse(bank.CodeInsufficientBalance, "transfer %d: %s has %s available, not %s",
					i, t.From, avail[t.From].StringFixed(2), t.Amount.StringFixed(2))
			}
			avail[t.From] = avail[t.From].Sub(t.Amount)
		}
		avail[t.To] = avail[t.To].Add(t.Amount)
	}
	for i, t := range ts {
		item := 0
		if typ == bank.MoveBatch {
			item = i + 1
		}
		if t.FreezeRequestNo != "" {
			if _, err := q.FreezeClose(ctx, simdb.FreezeCloseParams{RequestNo: t.FreezeRequestNo, ToState: "spent", ClosedBy: reqNo}); err != nil {
				return err
			}
			err = adjust(ctx, q, t.From, zero, t.Amount.Neg())
		} else {
			err = adjust(ctx, q, t.From, t.Amount.Neg(), zero)
		}
		if err != nil {
			return err
		}
		if err := adjust(ctx, q, t.To, t.Amount, zero); err != nil {
			return err
		}
		if err := move(ctx, q, reqNo, item, typ, t.From, t.To, t.Amount, t.FreezeRequestNo, purpose, today); err != nil {
			return err
		}
	}
	return nil
}

// deposit puts the platform's own money into a platform account.
func (s *Sim) deposit(ctx context.Context, r bank.DepositRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo, "account_no", r.AccountNo); err != nil {
		return simdb.Request{}, err
	}
	if err := checkAmount("amount", r.Amount, false); err != nil {
		return simdb.Request{}, err
	}
	return s.exec(ctx, op{kind: kindDeposit, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{accountNo: r.AccountNo, amount: r.Amount}
			accts, err := lockAccounts(ctx, q, r.AccountNo)
			if err != nil {
				return out, err
			}
			if accts[r.AccountNo].Kind != "platform" {
				return out, refuse(bank.CodeAccountRestricted, "%s is a user account: users recharge from their card", r.AccountNo)
			}
			if err := adjust(ctx, q, r.AccountNo, r.Amount, zero); err != nil {
				return out, err
			}
			return out, move(ctx, q, r.RequestNo, 0, bank.MoveDeposit, bank.ExternalAccount, r.AccountNo, r.Amount, "", "", today)
		}})
}

// topUp fills the bonus account from the platform's own card: the only money
// the account that only pays ever receives.
func (s *Sim) topUp(ctx context.Context, r bank.TopUpRequest) (simdb.Request, error) {
	if err := need("request_no", r.RequestNo); err != nil {
		return simdb.Request{}, err
	}
	if err := checkAmount("amount", r.Amount, false); err != nil {
		return simdb.Request{}, err
	}
	return s.exec(ctx, op{kind: kindBonusTopUp, requestNo: r.RequestNo, content: r,
		work: func(ctx context.Context, q *simdb.Queries, today time.Time) (outcome, error) {
			out := outcome{accountNo: bank.AccountBonus, amount: r.Amount}
			if _, err := lockAccounts(ctx, q, bank.AccountBonus); err != nil {
				return out, err
			}
			if err := adjust(ctx, q, bank.AccountBonus, r.Amount, zero); err != nil {
				return out, err
			}
			return out, move(ctx, q, r.RequestNo, 0, bank.MoveBonusTopUp, bank.PlatformCard, bank.AccountBonus, r.Amount, "", "", today)
		}})
}

// result is a request row as the API answers it.
func result(r simdb.Request) bank.Result {
	return bank.Result{
		RequestNo: r.RequestNo, Status: bank.Status(r.Status), Code: r.Code, Message: r.Message,
		Kind: r.Kind, AccountNo: r.AccountNo, BusinessDate: r.BusinessDate.Format(time.DateOnly),
	}
}
