package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// DBTX is what the read functions need: a pool, a connection or a transaction.
type DBTX = dbq.DBTX

// Post records e in tx and reports whether it was new.
//
// It is idempotent on (RequestNo, Leg), as the bank is on its request number:
// posting a key already recorded returns (false, nil) and changes nothing,
// provided the recorded entry has the same type and moves the same amounts on
// the same accounts (counterpart labels are not compared); otherwise the
// request number was reused and Post refuses with errs.Conflict.
//
// Refusals, all made before the entry is written (the transaction may go on;
// only accounts it names may have been opened, empty):
//   - errs.ValidationFailed: empty request number or type, no business date, an
//     unknown account code, a zero amount or one with more than two decimals,
//     postings that do not sum to zero;
//   - errs.InsufficientBalance: a balance other than external:cards would go
//     below zero after any posting, in the order given;
//   - errs.Conflict: the key is recorded with different postings.
//
// Accounts are opened on first use, with the user id taken from the code (the
// user must exist). tx should be READ COMMITTED, the default: Post waits for
// the row locks of its accounts and then works on their latest balances, which
// a REPEATABLE READ transaction refuses to do (serialization failure). Any other error leaves tx aborted or in an unknown state:
// roll it back.
func Post(ctx context.Context, tx pgx.Tx, e Entry) (bool, error) {
	n, err := PostAll(ctx, tx, e)
	return n == 1, err
}

// PostAll posts several entries in tx and returns how many were new. It locks
// the accounts of all of them at once, in code order; separate Posts in one
// transaction would each lock their own, and two such transactions could then
// deadlock. If an entry is refused, the ones before it are already written:
// roll tx back.
func PostAll(ctx context.Context, tx pgx.Tx, entries ...Entry) (int, error) {
	seen := make(map[key]bool, len(entries))
	codeSet := map[string]bool{}
	norm := make([]Entry, len(entries))
	for i, e := range entries {
		e, err := normalize(e)
		if err != nil {
			return 0, err
		}
		k := key{e.RequestNo, e.Leg}
		if seen[k] {
			return 0, errs.New(errs.ValidationFailed, "ledger: request %s leg %d appears twice in one post", e.RequestNo, e.Leg)
		}
		seen[k] = true
		for _, p := range e.Postings {
			codeSet[p.Account] = true
		}
		norm[i] = e
	}
	if len(norm) == 0 {
		return 0, nil
	}
	codes := make([]string, 0, len(codeSet))
	for c := range codeSet {
		codes = append(codes, c)
	}
	sort.Strings(codes)

	q := db.Queries(tx)
	rows, err := q.LedgerAccountLock(ctx, codes)
	// 23503 foreign_key_violation: ledger_accounts.user_id references users.
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return 0, fmt.Errorf("ledger: an account among %v names a user that does not exist: %w", codes, err)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: lock accounts: %w", err)
	}
	accounts := make(map[string]*account, len(rows))
	for _, r := range rows {
		accounts[r.Code] = &account{id: r.ID, balance: r.Balance, mayGoNegative: r.MayGoNegative}
	}
	if len(accounts) != len(codes) {
		return 0, fmt.Errorf("ledger: locked %d of %d accounts", len(accounts), len(codes))
	}

	posted := 0
	for _, e := range norm {
		isNew, err := postLocked(ctx, q, e, accounts)
		if err != nil {
			return posted, err
		}
		if isNew {
			posted++
		}
	}
	return posted, nil
}

type key struct {
	requestNo string
	leg       int
}

type account struct {
	id            int64
	balance       decimal.Decimal
	mayGoNegative bool
}

// postLocked writes one entry whose accounts tx already holds locked.
func postLocked(ctx context.Context, q *dbq.Queries, e Entry, accounts map[string]*account) (bool, error) {
	after := make([]decimal.Decimal, len(e.Postings))
	running := map[string]decimal.Decimal{}
	var short error
	for i, p := range e.Postings {
		a := accounts[p.Account]
		b, ok := running[p.Account]
		if !ok {
			b = a.balance
		}
		next := b.Add(p.Amount)
		if next.IsNegative() && !a.mayGoNegative && short == nil {
			short = errs.New(errs.InsufficientBalance, "%s holds %s, cannot pay %s (request %s leg %d)",
				p.Account, b.StringFixed(2), p.Amount.Neg().StringFixed(2), e.RequestNo, e.Leg)
		}
		running[p.Account] = next
		after[i] = next
	}
	if short != nil {
		// A replay is judged by what it recorded, not by balances it has
		// since moved: a withdrawal of everything, retried, is not an overdraft.
		// The key cannot appear after this look-up while we hold the accounts'
		// locks, unless posted with other accounts, which is a reuse anyway.
		recorded, err := q.JournalEntryGetByKey(ctx, dbq.JournalEntryGetByKeyParams{RequestNo: e.RequestNo, Leg: int32(e.Leg)})
		switch {
		case err == nil:
			return false, sameAsRecorded(ctx, q, recorded.ID, recorded.Type, e)
		case errors.Is(err, db.ErrNotFound):
			return false, short
		default:
			return false, fmt.Errorf("ledger: look up %s/%d: %w", e.RequestNo, e.Leg, err)
		}
	}

	params := dbq.JournalEntryInsertParams{
		RequestNo:    e.RequestNo,
		Leg:          int32(e.Leg),
		Type:         e.Type,
		Ref:          e.Ref,
		BusinessDate: e.BusinessDate,
		AccountIds:   make([]int64, len(e.Postings)),
		Amounts:      make([]decimal.Decimal, len(e.Postings)),
		Counterparts: make([]string, len(e.Postings)),
	}
	for i, p := range e.Postings {
		params.AccountIds[i] = accounts[p.Account].id
		params.Amounts[i] = p.Amount
		params.Counterparts[i] = p.Counterpart
	}
	inserted, err := q.JournalEntryInsert(ctx, params)
	if err != nil {
		return false, fmt.Errorf("ledger: insert entry %s/%d: %w", e.RequestNo, e.Leg, err)
	}
	if len(inserted) == 0 {
		recorded, err := q.JournalEntryGetByKey(ctx, dbq.JournalEntryGetByKeyParams{RequestNo: e.RequestNo, Leg: int32(e.Leg)})
		if err != nil {
			return false, fmt.Errorf("ledger: look up %s/%d: %w", e.RequestNo, e.Leg, err)
		}
		return false, sameAsRecorded(ctx, q, recorded.ID, recorded.Type, e)
	}
	// The database computed balance_after itself; disagreeing with our locked
	// view would mean the locks did not hold, and nothing after that is safe.
	if len(inserted) != len(e.Postings) {
		return false, fmt.Errorf("ledger: %s/%d: inserted %d of %d postings", e.RequestNo, e.Leg, len(inserted), len(e.Postings))
	}
	// Ids follow insertion order, which RETURNING need not.
	sort.Slice(inserted, func(i, j int) bool { return inserted[i].ID < inserted[j].ID })
	for i, row := range inserted {
		if row.AccountID != params.AccountIds[i] || !row.BalanceAfter.Equal(after[i]) {
			return false, fmt.Errorf("ledger: %s/%d: %s balance after is %s in the database, expected %s",
				e.RequestNo, e.Leg, e.Postings[i].Account, row.BalanceAfter, after[i])
		}
	}
	for code, b := range running {
		accounts[code].balance = b
	}
	postingsWritten.WithLabelValues(e.Type).Add(float64(len(e.Postings)))
	return true, nil
}

// sameAsRecorded refuses a replay whose money differs from what was recorded.
func sameAsRecorded(ctx context.Context, q *dbq.Queries, entryID int64, recordedType string, e Entry) error {
	rows, err := q.PostingListByEntry(ctx, entryID)
	if err != nil {
		return fmt.Errorf("ledger: read postings of %s/%d: %w", e.RequestNo, e.Leg, err)
	}
	recorded := make([]string, len(rows))
	for i, r := range rows {
		recorded[i] = r.Code + " " + r.Amount.StringFixed(2)
	}
	offered := make([]string, len(e.Postings))
	for i, p := range e.Postings {
		offered[i] = p.Account + " " + p.Amount.StringFixed(2)
	}
	sort.Strings(recorded)
	sort.Strings(offered)
	if recordedType == e.Type && strings.Join(recorded, ",") == strings.Join(offered, ",") {
		return nil
	}
	return errs.New(errs.Conflict, "ledger: request %s leg %d was recorded as %s [%s], not %s [%s]",
		e.RequestNo, e.Leg, recordedType, strings.Join(recorded, ", "), e.Type, strings.Join(offered, ", "))
}

// normalize checks e and returns a copy with default counterparts.
func normalize(e Entry) (Entry, error) {
	bad := func(format string, args ...any) (Entry, error) {
		return Entry{}, errs.New(errs.ValidationFailed, "ledger: request %q leg %d: %s", e.RequestNo, e.Leg, fmt.Sprintf(format, args...))
	}
	switch {
	case e.RequestNo == "":
		return bad("no request number")
	case e.Leg < 0 || e.Leg > math.MaxInt32:
		return bad("leg out of range")
	case e.Type == "":
		return bad("no type")
	case e.BusinessDate.IsZero():
		return bad("no business date")
	case len(e.Postings) < 2:
		return bad("%d postings; a movement has two sides", len(e.Postings))
	}
	postings := make([]Posting, len(e.Postings))
	total := decimal.Zero
	for i, p := range e.Postings {
		if _, ok := parseAccount(p.Account); !ok {
			return bad("unknown account %q", p.Account)
		}
		if p.Amount.IsZero() {
			return bad("zero amount on %s", p.Account)
		}
		// NUMERIC(20,2) would round a third decimal silently, and the books
		// would no longer be what the caller asked for.
		if !p.Amount.Equal(p.Amount.Round(2)) {
			return bad("amount %s on %s has more than two decimals", p.Amount, p.Account)
		}
		total = total.Add(p.Amount)
		postings[i] = p
	}
	if !total.IsZero() {
		return bad("postings sum to %s, not zero", total.StringFixed(2))
	}
	// A two-sided entry names its own counterparts; larger ones (a batch) are
	// labelled by the caller.
	if len(postings) == 2 {
		if postings[0].Counterpart == "" {
			postings[0].Counterpart = postings[1].Account
		}
		if postings[1].Counterpart == "" {
			postings[1].Counterpart = postings[0].Account
		}
	}
	e.Postings = postings
	return e, nil
}
