package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/events"
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
// deadlock. The entries are written by one statement, in the order given,
// unless one of them could overdraw: then one at a time, so that each is
// judged as Post judges it. If an entry is refused, others may be written
// already: roll tx back.
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

	return postLocked(ctx, q, norm, accounts)
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

// postLocked writes entries whose accounts tx already holds locked, all in one
// statement when none can overdraw, and returns how many were new.
func postLocked(ctx context.Context, q *dbq.Queries, entries []Entry, accounts map[string]*account) (int, error) {
	after, end, short := forecast(entries, accounts)
	if short == nil {
		return insertLocked(ctx, q, entries, accounts, after, end)
	}
	if len(entries) == 1 {
		// A replay is judged by what it recorded, not by balances it has
		// since moved: a withdrawal of everything, retried, is not an overdraft.
		// The key cannot appear after this look-up while we hold the accounts'
		// locks, unless posted with other accounts, which is a reuse anyway.
		return 0, recordedOr(ctx, q, entries[0], short)
	}
	// One at a time, each judged on the balances the entries before it
	// left and, if it would overdraw, by what its key recorded.
	posted := 0
	for _, e := range entries {
		n, err := postLocked(ctx, q, []Entry{e}, accounts)
		posted += n
		if err != nil {
			return posted, err
		}
	}
	return posted, nil
}

// forecast moves the locked balances by entries, in order, and returns each
// posting's balance after and each account's balance at the end. short is an
// overdraft some posting would make, before anything is written, counting an
// earlier entry's credit to the account as if it were not there: any entry of
// the group may turn out a replay that moves nothing, and the entries after it
// must not then overdraw in the database, which would abort the transaction
// instead of refusing cleanly. An earlier entry's debit is counted, replay or
// not, which can only refuse more.
func forecast(entries []Entry, accounts map[string]*account) (after [][]decimal.Decimal, end map[string]decimal.Decimal, short error) {
	after = make([][]decimal.Decimal, len(entries))
	end = map[string]decimal.Decimal{}
	floor := map[string]decimal.Decimal{} // the balance without earlier credits of the group
	for k, e := range entries {
		after[k] = make([]decimal.Decimal, len(e.Postings))
		moved := map[string]decimal.Decimal{}
		for i, p := range e.Postings {
			a := accounts[p.Account]
			b, ok := end[p.Account]
			if !ok {
				b = a.balance
			}
			f, ok := floor[p.Account]
			if !ok {
				f = a.balance
			}
			moved[p.Account] = moved[p.Account].Add(p.Amount)
			if f.Add(moved[p.Account]).IsNegative() && !a.mayGoNegative && short == nil {
				short = errs.New(errs.InsufficientBalance, "%s holds %s, cannot pay %s (request %s leg %d)",
					p.Account, b.StringFixed(2), p.Amount.Neg().StringFixed(2), e.RequestNo, e.Leg)
			}
			end[p.Account] = b.Add(p.Amount)
			after[k][i] = end[p.Account]
		}
		for code, m := range moved {
			if m.IsNegative() {
				f, ok := floor[code]
				if !ok {
					f = accounts[code].balance
				}
				floor[code] = f.Add(m)
			}
		}
	}
	return after, end, short
}

// insertLocked writes entries none of which can overdraw, in one statement;
// after and end are their forecast. An entry whose key was recorded already
// must be the same movement; the others must have moved the balances as
// forecast over the entries actually written.
func insertLocked(ctx context.Context, q *dbq.Queries, entries []Entry, accounts map[string]*account, after [][]decimal.Decimal, end map[string]decimal.Decimal) (int, error) {
	rows, err := writeEntries(ctx, q, entries, accounts)
	if err != nil {
		return 0, err
	}
	// Ids follow insertion order, which RETURNING need not.
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })

	written := make([]bool, len(entries))
	for _, r := range rows {
		if r.Ord < 1 || int(r.Ord) > len(entries) {
			return 0, fmt.Errorf("ledger: the database wrote a posting of entry %d of %d", r.Ord, len(entries))
		}
		written[r.Ord-1] = true
	}
	var posted []Entry
	var ords []int32
	for k, e := range entries {
		if written[k] {
			posted, ords = append(posted, e), append(ords, int32(k+1))
		} else if err := recordedOr(ctx, q, e, nil); err != nil {
			return 0, err
		}
	}
	if len(posted) < len(entries) {
		// The replays moved nothing: what the others did is forecast without them.
		after, end, _ = forecast(posted, accounts)
	}

	// The database computed balance_after itself; disagreeing with our locked
	// view would mean the locks did not hold, and nothing after that is safe.
	// The entries' ids must follow the postings': (entry_id, id) is the order
	// readers replay.
	i := 0
	var entryID int64
	for k, e := range posted {
		for j, p := range e.Postings {
			if i == len(rows) {
				return 0, fmt.Errorf("ledger: %s/%d: inserted %d postings, expected more", e.RequestNo, e.Leg, len(rows))
			}
			r := rows[i]
			i++
			if j == 0 && r.EntryID > entryID {
				entryID = r.EntryID
			}
			if r.Ord != ords[k] || r.EntryID != entryID || r.AccountID != accounts[p.Account].id || !r.BalanceAfter.Equal(after[k][j]) {
				return 0, fmt.Errorf("ledger: %s/%d: posting %d is account %d at %s in the database (entry id %d, entry %d of the statement), expected %s (%d) at %s",
					e.RequestNo, e.Leg, j, r.AccountID, r.BalanceAfter, r.EntryID, r.Ord, p.Account, accounts[p.Account].id, after[k][j])
			}
		}
	}
	if i != len(rows) {
		return 0, fmt.Errorf("ledger: inserted %d postings, expected %d", len(rows), i)
	}
	for code, b := range end {
		accounts[code].balance = b
	}
	for _, e := range posted {
		postingsWritten.WithLabelValues(e.Type).Add(float64(len(e.Postings)))
	}
	return len(posted), nil
}

// writeEntries inserts entries and their postings in one statement and
// returns the postings written, each with its entry's place in entries (from
// 1). An entry whose key was recorded already writes nothing.
func writeEntries(ctx context.Context, q *dbq.Queries, entries []Entry, accounts map[string]*account) ([]dbq.JournalEntryInsertManyRow, error) {
	params := dbq.JournalEntryInsertManyParams{
		RequestNos:    make([]string, len(entries)),
		Legs:          make([]int32, len(entries)),
		Types:         make([]string, len(entries)),
		Refs:          make([]string, len(entries)),
		BusinessDates: make([]time.Time, len(entries)),
		EventTypes:    make([]string, len(entries)),
		EventLoanIds:  make([]int64, len(entries)),
		EventUserIds:  make([]int64, len(entries)),
	}
	data := make([]json.RawMessage, len(entries))
	for k, e := range entries {
		ev, err := eventOf(e)
		if err != nil {
			return nil, err
		}
		params.EventTypes[k], params.EventLoanIds[k], params.EventUserIds[k], data[k] = ev.typ, ev.loanID, ev.userID, ev.data
		params.RequestNos[k], params.Legs[k], params.Types[k], params.Refs[k], params.BusinessDates[k] =
			e.RequestNo, int32(e.Leg), e.Type, e.Ref, e.BusinessDate
		for _, p := range e.Postings {
			params.PostingEntries = append(params.PostingEntries, int32(k+1))
			params.AccountIds = append(params.AccountIds, accounts[p.Account].id)
			params.Amounts = append(params.Amounts, p.Amount)
			params.Counterparts = append(params.Counterparts, p.Counterpart)
			params.Kinds = append(params.Kinds, p.Kind)
		}
	}
	var rows []dbq.JournalEntryInsertManyRow
	var err error
	if len(entries) == 1 {
		// One entry, Post's usual case: the plainer statement, which
		// BenchmarkPost measured about 10 % faster than the group's for one.
		e := entries[0]
		var single []dbq.JournalEntryInsertRow
		single, err = q.JournalEntryInsert(ctx, dbq.JournalEntryInsertParams{RequestNo: e.RequestNo, Leg: int32(e.Leg), Type: e.Type,
			Ref: e.Ref, BusinessDate: e.BusinessDate, AccountIds: params.AccountIds, Amounts: params.Amounts, Counterparts: params.Counterparts, Kinds: params.Kinds,
			EventType: params.EventTypes[0], EventLoanID: events.Optional(params.EventLoanIds[0]),
			EventUserID: events.Optional(params.EventUserIds[0]), EventData: data[0]})
		for _, r := range single {
			rows = append(rows, dbq.JournalEntryInsertManyRow(r))
		}
	} else {
		if params.EventData, err = json.Marshal(data); err != nil {
			return nil, err
		}
		rows, err = q.JournalEntryInsertMany(ctx, params)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: insert entries %s/%d…: %w", entries[0].RequestNo, entries[0].Leg, err)
	}
	return rows, nil
}

// recordedOr checks a replay of e against what its key recorded; if the key
// is not recorded, the answer is missing (nil: the key must be recorded).
func recordedOr(ctx context.Context, q *dbq.Queries, e Entry, missing error) error {
	recorded, err := q.JournalEntryGetByKey(ctx, dbq.JournalEntryGetByKeyParams{RequestNo: e.RequestNo, Leg: int32(e.Leg)})
	switch {
	case err == nil:
		return sameAsRecorded(ctx, q, recorded.ID, recorded.Type, e)
	case errors.Is(err, db.ErrNotFound) && missing != nil:
		return missing
	case errors.Is(err, db.ErrNotFound):
		return fmt.Errorf("ledger: %s/%d was neither written nor found recorded", e.RequestNo, e.Leg)
	default:
		return fmt.Errorf("ledger: look up %s/%d: %w", e.RequestNo, e.Leg, err)
	}
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
