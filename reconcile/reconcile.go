// Package reconcile compares the custody bank's daily reconciliation file
// (对账文件) with the platform's ledger, movement by movement (docs/rules.md
// "Custody bank accounts": the bank's record is the truth, and the ledger must
// match it to the cent), and keeps the result of every run.
//
// What is compared, per request number (流水号):
//   - the net change of each custody account, its available and its frozen
//     balance apart. A freeze or an unfreeze moves money inside one account,
//     so only the split shows its amount; a withdrawal's fee line and its
//     amount line land in the same request, and a batch's items are summed
//     per account, which is how the ledger books a batch (one entry);
//   - the kind of movement: the bank's line types (and a batch's or a
//     transfer's purpose) against the ledger entry's type;
//   - presence: a request on one side only.
//
// What is not: money outside custody (cards, the platform company's own
// account), which the bank does not hold; lines of a failed request, which
// moved nothing.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
)

// Statuses of a day.
const (
	Matched    = "matched"
	Mismatched = "mismatched"
	Pending    = "pending" // the business day is not over: the file may still grow
)

// Reasons a movement differs.
const (
	ReasonBankOnly      = "at the bank, not in the ledger"
	ReasonLedgerOnly    = "in the ledger, not at the bank"
	ReasonAmountsDiffer = "amounts differ"
	ReasonKindsDiffer   = "kinds differ"
)

// Difference is one movement that does not agree. Kind is the platform's
// name for the movement (a ledger entry type: recharge, withdrawal,
// withdrawal_reversal, freeze, disbursement, …), read from the bank's side
// when the bank has the request. Account names the custody account, with
// " frozen" for its frozen balance; it is empty when the whole request is
// on one side only.
type Difference struct {
	RequestNo    string `json:"request_no"`
	Kind         string `json:"kind"`
	Account      string `json:"account,omitempty"`
	BankAmount   string `json:"bank_amount"`
	LedgerAmount string `json:"ledger_amount"`
	Reason       string `json:"reason"`
}

// Report is a day's comparison. A day's close also audits the whole ledger
// (ledger.CheckConservation) and keeps the outcome with the day: Conservation
// is ok or violated (with the violations; the day is then mismatched too),
// empty on a run ops asked for, which does not audit.
type Report struct {
	Date                   string       `json:"date"`
	Status                 string       `json:"status"`
	Differences            []Difference `json:"differences"`
	Conservation           string       `json:"conservation,omitempty"`
	ConservationViolations []string     `json:"conservation_violations,omitempty"`
}

// Outcomes of the conservation audit.
const (
	ConservationOK       = "ok"
	ConservationViolated = "violated"
	conservationNone     = "unchecked" // a run ops asked for
)

// Source is where the bank's file comes from (*bank.HTTPClient).
type Source interface {
	Reconciliation(ctx context.Context, date time.Time) ([]bank.ReconciliationLine, error)
}

// Reversals books the withdrawal reversals (冲正) a file shows: the file is
// where a reversal whose callback never came is learned of (docs/rules.md
// "Withdrawal route": a confirmed withdrawal can be reversed by the
// reconciliation file). *accounts.Service.
type Reversals interface {
	ApplyFileReversals(ctx context.Context, lines []bank.ReconciliationLine) (int, error)
}

// Run compares one business date and keeps the result. The day is pending
// while it is today or later by the platform's clock: the bank may still add
// movements to it.
func Run(ctx context.Context, q *dbq.Queries, src Source, date, today time.Time) (Report, error) {
	lines, err := src.Reconciliation(ctx, date)
	if err != nil {
		return Report{}, fmt.Errorf("the bank's file for %s: %w", date.Format(time.DateOnly), err)
	}
	return runLines(ctx, q, lines, date, today, "request", nil)
}

// MaxDaysPerClose bounds one Close, so a worker that was down for long
// catches up over several sweeps rather than in one long one.
const MaxDaysPerClose = 31

// DB is the platform's pool: Close reads the ledger's audit in one snapshot.
type DB interface {
	dbq.DBTX
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Closer closes business days: the worker's daily reconciliation.
type Closer struct {
	DB   DB
	Bank Source
	// Reversals books the file's withdrawal reversals before the compare; nil
	// books none.
	Reversals Reversals
	// Log gets every mismatched day and every failed audit at error level;
	// nil is slog.Default.
	Log *slog.Logger
	// RetryAfter: a mismatched day is closed again this long after, and a
	// day's unsettled recharge or withdrawal holds it back at most this long.
	RetryAfter time.Duration
}

// Close reconciles the closed business dates (before today) not yet
// matched, oldest first, from the ledger's first day: for each it books the
// reversals the file shows and then compares, and it audits the whole
// ledger's conservation (ledger.CheckConservation) once for the days it
// closes, keeping the outcome with each. A day that matched (and whose audit
// held) is final and not looked at again; a mismatched one is stored with its
// differences, logged at error level, counted
// (lendflow_reconcile_mismatched_days_total; a failed audit also
// lendflow_reconcile_conservation_failures_total), and tried again after
// RetryAfter: a person has to look at it (GET /v1/ops/reconciliation?status=mismatched).
// A day with a recharge or withdrawal still waiting for the bank's answer
// waits for it, up to RetryAfter after it was sent: the sweep that settles it
// books what the file may already show. It returns the reports of the days
// it ran.
func (c Closer) Close(ctx context.Context, today time.Time) ([]Report, error) {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	q := db.Queries(c.DB)
	first, err := q.LedgerFirstBusinessDate(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil // no money has moved yet
	}
	if err != nil {
		return nil, err
	}
	last := today.AddDate(0, 0, -1)
	if last.Before(first) {
		return nil, nil
	}
	days, err := q.ReconciliationDaysToClose(ctx, dbq.ReconciliationDaysToCloseParams{
		FromDay: first, ToDay: last, RetryBefore: time.Now().Add(-c.RetryAfter), MaxDays: MaxDaysPerClose,
	})
	if err != nil {
		return nil, err
	}
	var audit *[]string
	var out []Report
	for _, day := range days {
		n, err := q.ReconciliationUnsettledOn(ctx, dbq.ReconciliationUnsettledOnParams{Day: day, SentAfter: time.Now().Add(-c.RetryAfter)})
		if err != nil {
			return out, err
		}
		if n > 0 {
			continue // a recharge or withdrawal of the day is not settled yet
		}
		lines, err := c.Bank.Reconciliation(ctx, day)
		if err != nil {
			return out, fmt.Errorf("the bank's file for %s: %w", day.Format(time.DateOnly), err)
		}
		if c.Reversals != nil {
			if _, err := c.Reversals.ApplyFileReversals(ctx, lines); err != nil {
				return out, fmt.Errorf("reversals of %s: %w", day.Format(time.DateOnly), err)
			}
		}
		if audit == nil {
			v, err := c.conservation(ctx)
			if err != nil {
				return out, err
			}
			v = nonNil(v) // audited: nil would mean "not audited"
			audit = &v
			if len(v) > 0 {
				conservationFailures.Inc()
				log.Error("reconciliation: the ledger does not conserve money", "closing", day.Format(time.DateOnly), "violations", v)
			}
		}
		rep, err := runLines(ctx, q, lines, day, today, "close", *audit)
		if err != nil {
			return out, err
		}
		if rep.Status == Mismatched {
			mismatchedDays.Inc()
			log.Error("reconciliation: the bank's file and the ledger differ", "date", rep.Date,
				"differences", rep.Differences, "conservation", rep.Conservation)
		}
		out = append(out, rep)
	}
	return out, nil
}

// conservation audits the whole ledger in one snapshot and answers its
// violations (none: nil).
func (c Closer) conservation(ctx context.Context) ([]string, error) {
	var violations []string
	err := pgx.BeginTxFunc(ctx, c.DB, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := ledger.CheckConservation(ctx, tx)
		var ce *ledger.ConservationError
		if errors.As(err, &ce) {
			violations = ce.Violations
			return nil
		}
		return err
	})
	return violations, err
}

// runLines compares and keeps the run. audit is the conservation audit's
// violations for a close (empty: it held), nil for a run ops asked for.
func runLines(ctx context.Context, q *dbq.Queries, lines []bank.ReconciliationLine, date, today time.Time, origin string, audit []string) (Report, error) {
	rows, err := q.LedgerMovementsOn(ctx, date)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Date: date.Format(time.DateOnly), Differences: compare(bankSide(lines), ledgerSide(rows))}
	conservation := conservationNone
	if audit != nil {
		conservation = ConservationOK
		if len(audit) > 0 {
			conservation = ConservationViolated
			rep.ConservationViolations = audit
		}
		rep.Conservation = conservation
	}
	switch {
	case !date.Before(today):
		rep.Status = Pending
	case len(rep.Differences) > 0 || conservation == ConservationViolated:
		rep.Status = Mismatched
	default:
		rep.Status = Matched
	}
	diffs, err := json.Marshal(rep.Differences)
	if err != nil {
		return rep, err
	}
	violations, err := json.Marshal(nonNil(rep.ConservationViolations))
	if err != nil {
		return rep, err
	}
	entries := map[string]bool{}
	for _, r := range rows {
		entries[r.RequestNo] = true
	}
	_, err = q.ReconciliationRunInsert(ctx, dbq.ReconciliationRunInsertParams{
		BusinessDate: date, Status: rep.Status, Differences: diffs, BankLines: int32(len(lines)), LedgerEntries: int32(len(entries)),
		Origin: origin, Conservation: conservation, ConservationViolations: violations,
	})
	return rep, err
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// ClosedDay is a day's latest close, as ops list them.
type ClosedDay struct {
	Report
	Origin string
	RunAt  time.Time
}

// ListClosed answers each day's latest close whose status is status, newest
// day first: limit of them before the day before (nil: from the newest).
func ListClosed(ctx context.Context, q *dbq.Queries, status string, before *time.Time, limit int) ([]ClosedDay, error) {
	rows, err := q.ReconciliationRunListLatestClose(ctx, dbq.ReconciliationRunListLatestCloseParams{Status: status, BeforeDay: before, Lim: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]ClosedDay, 0, len(rows))
	for _, r := range rows {
		run := ClosedDay{Report: Report{Date: r.BusinessDate.Format(time.DateOnly), Status: r.Status, Differences: []Difference{}}, Origin: r.Origin, RunAt: r.RunAt}
		if err := json.Unmarshal(r.Differences, &run.Differences); err != nil {
			return nil, fmt.Errorf("reconciliation run %d: differences: %w", r.ID, err)
		}
		if r.Conservation != conservationNone {
			run.Conservation = r.Conservation
			if err := json.Unmarshal(r.ConservationViolations, &run.ConservationViolations); err != nil {
				return nil, fmt.Errorf("reconciliation run %d: violations: %w", r.ID, err)
			}
		}
		out = append(out, run)
	}
	return out, nil
}

// side is one party's view of a day: per request key, the net change of
// each custody balance and the kinds of movement.
type side map[string]*movement

type movement struct {
	net   map[string]decimal.Decimal // custody account (" frozen" for its frozen balance) → net change
	kinds map[string]bool
	// gross is what the request moved, cards included: the number a person
	// finds in the file (its lines' sum) or the ledger (its credits' sum).
	gross decimal.Decimal
}

func (s side) get(key string) *movement {
	m := s[key]
	if m == nil {
		m = &movement{net: map[string]decimal.Decimal{}, kinds: map[string]bool{}}
		s[key] = m
	}
	return m
}

func (m *movement) add(acct string, amt decimal.Decimal) { m.net[acct] = m.net[acct].Add(amt) }

const frozen = " frozen"

func bankSide(lines []bank.ReconciliationLine) side {
	s := side{}
	for _, l := range lines {
		if l.Status == bank.StatusFailed {
			continue
		}
		key := l.RequestNo
		if l.Type == bank.MoveWithdrawalReversal {
			key = accounts.ReversalNo(l.RequestNo)
		}
		m := s.get(key)
		m.gross = m.gross.Add(l.Amount)
		if k := kindOf(l); k != "" {
			m.kinds[k] = true
		}
		from, to := l.From, l.To
		switch {
		case l.Type == bank.MoveFreeze:
			to += frozen
		case l.Type == bank.MoveUnfreeze || l.FreezeRequestNo != "":
			from += frozen // a spent freeze pays out of the frozen balance
		}
		if custody(l.From) {
			m.add(from, l.Amount.Neg())
		}
		if custody(l.To) {
			m.add(to, l.Amount)
		}
	}
	return s
}

var platformAccounts = map[string]string{
	ledger.PlatformFee: bank.AccountFee, ledger.PlatformBonus: bank.AccountBonus,
	ledger.PlatformRiskReserve: bank.AccountRiskReserve, ledger.PlatformSummary: bank.AccountSummary,
}

func ledgerSide(rows []dbq.LedgerMovementsOnRow) side {
	s := side{}
	for _, r := range rows {
		m := s.get(r.RequestNo)
		m.kinds[r.Type] = true
		if r.Net.Sign() > 0 {
			m.gross = m.gross.Add(r.Net)
		}
		acct := platformAccounts[r.Code]
		switch {
		case r.Code == ledger.ExternalCards:
			continue // outside custody, as on the bank's side
		case acct != "":
		case r.CustodyAccountNo != nil:
			acct = *r.CustodyAccountNo
			if strings.HasSuffix(r.Code, ":frozen") {
				acct += frozen
			}
		default:
			acct = r.Code // a user without a custody account: always a difference
		}
		m.add(acct, r.Net)
	}
	return s
}

func compare(b, l side) []Difference {
	out := []Difference{}
	for key, bm := range b {
		lm, ok := l[key]
		if !ok {
			out = append(out, Difference{RequestNo: key, Kind: kindName(bm.kinds), BankAmount: bm.moved(), LedgerAmount: "0.00", Reason: ReasonBankOnly})
			continue
		}
		kind := kindName(bm.kinds)
		if len(bm.kinds) > 0 && kind != kindName(lm.kinds) {
			out = append(out, Difference{RequestNo: key, Kind: kind, BankAmount: bm.moved(), LedgerAmount: lm.moved(),
				Reason: ReasonKindsDiffer + ": the ledger has " + kindName(lm.kinds)})
		}
		for _, acct := range accountsOf(bm, lm) {
			if ba, la := bm.net[acct], lm.net[acct]; !ba.Equal(la) {
				out = append(out, Difference{RequestNo: key, Kind: kind, Account: acct, BankAmount: ba.StringFixed(2), LedgerAmount: la.StringFixed(2), Reason: ReasonAmountsDiffer})
			}
		}
	}
	for key, lm := range l {
		if _, ok := b[key]; !ok {
			out = append(out, Difference{RequestNo: key, Kind: kindName(lm.kinds), BankAmount: "0.00", LedgerAmount: lm.moved(), Reason: ReasonLedgerOnly})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RequestNo != out[j].RequestNo {
			return out[i].RequestNo < out[j].RequestNo
		}
		return out[i].Account < out[j].Account
	})
	return out
}

func accountsOf(a, b *movement) []string {
	set := map[string]bool{}
	for k := range a.net {
		set[k] = true
	}
	for k := range b.net {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (m *movement) moved() string { return m.gross.StringFixed(2) }

// kindOf names a bank line in the ledger's vocabulary of entry types. A
// withdrawal's fee line is part of the withdrawal; a batch or a transfer is
// what its purpose says. Anything else (a deposit of the platform's own
// money) keeps the bank's name.
func kindOf(l bank.ReconciliationLine) string {
	switch l.Type {
	case bank.MoveRecharge:
		return ledger.TypeRecharge
	case bank.MoveWithdrawal, bank.MoveWithdrawalFee:
		return ledger.TypeWithdrawal
	case bank.MoveWithdrawalReversal:
		return ledger.TypeWithdrawalReversal
	case bank.MoveFreeze:
		return ledger.TypeFreeze
	case bank.MoveUnfreeze:
		return ledger.TypeUnfreeze
	case bank.MoveBatch, bank.MoveTransfer:
		return l.Purpose
	}
	return l.Type
}

func kindName(kinds map[string]bool) string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, "+")
}

// custody: an account the bank holds for the platform or a user, not a card
// or the outside world.
func custody(acct string) bool {
	return acct != "" && acct != bank.ExternalAccount && !strings.HasPrefix(acct, "card:")
}
