package ledger

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Summary is a user's position: what the custody bank holds for them and what
// their claims are still owed.
type Summary struct {
	Available        decimal.Decimal
	Frozen           decimal.Decimal
	PendingPrincipal decimal.Decimal // 待收本金
	PendingInterest  decimal.Decimal // 待收利息
	// PendingBonus is what the user's coupons still owe (interest coupons'
	// bonus expected, a payment refused and to be retried). It is part of the
	// fund log's pending receivable, not of TotalAssets, which the API
	// defines as available + frozen + pending principal + pending interest.
	PendingBonus decimal.Decimal
	TotalAssets  decimal.Decimal // available + frozen + pending principal + pending interest
}

// AccountSummary reads the user's balances from the ledger and their pending
// receivables from installment_shares (planned − received) and, for a
// guarantor that compensated, compensator_claims (paid − paid back), on loans
// that are not written off. Pending penalty is not counted: it is not planned, only
// accrued when an installment is late. A user the ledger has never seen has a
// zero summary.
func AccountSummary(ctx context.Context, q DBTX, userID int64) (Summary, error) {
	queries := db.Queries(q)
	accounts, err := queries.LedgerAccountListByUser(ctx, &userID)
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: accounts of user %d: %w", userID, err)
	}
	var s Summary
	for _, a := range accounts {
		switch a.Code {
		case UserAvailable(userID):
			s.Available = a.Balance
		case UserFrozen(userID):
			s.Frozen = a.Balance
		}
	}
	pending, err := queries.InstallmentSharePendingByInvestor(ctx, userID)
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: pending receivables of user %d: %w", userID, err)
	}
	// A guarantor that compensated holds what it paid, until the borrower
	// pays it back (docs/rules.md "Claim holders").
	taken, err := queries.CompensatorClaimPendingByUser(ctx, &userID)
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: compensated claims of user %d: %w", userID, err)
	}
	s.PendingPrincipal = pending.PendingPrincipal.Add(taken.PendingPrincipal)
	s.PendingInterest = pending.PendingInterest.Add(taken.PendingInterest)
	if s.PendingBonus, err = queries.CouponBonusPendingByUser(ctx, userID); err != nil {
		return Summary{}, fmt.Errorf("ledger: pending bonus of user %d: %w", userID, err)
	}
	s.TotalAssets = s.Available.Add(s.Frozen).Add(s.PendingPrincipal).Add(s.PendingInterest)
	return s, nil
}

// FundLogItem is one line of a user's fund log (资金日志): one kind of money
// one journal entry moved on the user's available or frozen balance. An
// entry that moves several kinds for the user is several lines, in the order
// it moved them (docs/money.md "Fund log"): a repayment received is its
// principal, interest and penalty; a disbursement, for the borrower, the gross
// amount, the service fee and the risk-reserve contribution; a withdrawal,
// its amount and its fee.
type FundLogItem struct {
	ID   int64 // the journal entry; the pagination cursor (lines of one entry share it)
	At   time.Time
	Type string // the entry's type (Type*)
	// Kind is what the line's money is: a Kind* constant, or the entry's
	// type when the entry moved one kind only (a recharge, a transfer…).
	Kind string
	// Amount is the net change of the user's available balance, or, for an
	// entry that moved only frozen money (a spent freeze at disbursement), the
	// net change of the frozen balance. So a freeze shows −100.00 (available
	// fell) with FrozenAfter up by 100.00, and a disbursed bid −100.00.
	Amount         decimal.Decimal
	AvailableAfter decimal.Decimal
	FrozenAfter    decimal.Decimal
	// Counterpart is the label of the user's largest posting in the entry
	// (available postings first): a withdrawal with a fee shows the card. It
	// is written for the user whose log it is (counterpart.go): "borrower of
	// loan 42", "investors of loan 42", never another user's id.
	Counterpart  string
	Ref          string
	BusinessDate time.Time
	// PendingReceivableAfter is what the user's claims are still owed after
	// the line, principal + interest (待收): the snapshot taken as the entry
	// committed (receivable_snapshots), plus, for a line before another of
	// the same entry, the principal and interest the later lines received.
	PendingReceivableAfter decimal.Decimal
}

// Fund log page sizes: a request for fewer than one item gets the default,
// for more than MaxFundLogLimit gets MaxFundLogLimit.
const (
	DefaultFundLogLimit = 20
	MaxFundLogLimit     = 200
)

// FundLog lists the user's fund log newest first, limit items older than the
// entry afterID (0: from the newest). next is the cursor for the following
// page, 0 when there is none. The after-balances come from the postings'
// balance_after: for an entry that did not touch one of the two balances, that
// balance as of the entry.
//
// Entries are ordered by id. Post assigns the id while holding the locks of
// every account the entry touches, so per account the order is the order in
// which balances moved.
func FundLog(ctx context.Context, q DBTX, userID int64, afterID int64, limit int) (items []FundLogItem, next int64, err error) {
	if limit < 1 {
		limit = DefaultFundLogLimit
	}
	if limit > MaxFundLogLimit {
		limit = MaxFundLogLimit
	}
	before := afterID
	if before <= 0 {
		before = math.MaxInt64
	}
	queries := db.Queries(q)
	accounts, err := queries.LedgerAccountListByUser(ctx, &userID)
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: accounts of user %d: %w", userID, err)
	}
	var availableID, frozenID int64
	for _, a := range accounts {
		switch a.Code {
		case UserAvailable(userID):
			availableID = a.ID
		case UserFrozen(userID):
			frozenID = a.ID
		}
	}
	if availableID == 0 && frozenID == 0 {
		return nil, 0, nil
	}
	// One more than asked tells whether another page exists.
	entryIDs, err := queries.PostingEntryPageByAccounts(ctx, dbq.PostingEntryPageByAccountsParams{
		AvailableID: availableID, FrozenID: frozenID, BeforeEntry: before, Lim: int32(limit + 1),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: fund log of user %d: %w", userID, err)
	}
	if len(entryIDs) > limit {
		entryIDs = entryIDs[:limit]
		next = entryIDs[limit-1]
	}
	if len(entryIDs) == 0 {
		return nil, 0, nil
	}
	postings, err := queries.PostingListByUser(ctx, dbq.PostingListByUserParams{
		EntryIds: entryIDs, AccountIds: []int64{availableID, frozenID}, UserID: userID,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: fund log of user %d: %w", userID, err)
	}

	// Walk the page oldest first, carrying each balance forward; the balance
	// before the page is read only if an entry needs it.
	oldest := entryIDs[len(entryIDs)-1]
	carry := map[int64]*decimal.Decimal{}
	balanceBefore := func(accountID int64) (decimal.Decimal, error) {
		if b := carry[accountID]; b != nil {
			return *b, nil
		}
		if accountID == 0 {
			return decimal.Zero, nil
		}
		b, err := queries.PostingBalanceBefore(ctx, dbq.PostingBalanceBeforeParams{AccountID: accountID, BeforeEntry: oldest})
		if err != nil {
			return decimal.Zero, fmt.Errorf("ledger: fund log of user %d: %w", userID, err)
		}
		carry[accountID] = &b
		return b, nil
	}

	items = make([]FundLogItem, 0, len(entryIDs))
	labels := &counterparts{q: q, viewer: userID}
	for i := 0; i < len(postings); {
		j := i
		for j < len(postings) && postings[j].EntryID == postings[i].EntryID {
			j++
		}
		lines, err := entryLines(ctx, postings[i:j], availableID, frozenID, carry, balanceBefore, labels)
		if err != nil {
			return nil, 0, fmt.Errorf("ledger: fund log of user %d: %w", userID, err)
		}
		items = append(items, lines...)
		i = j
	}
	// Newest first, as the page was chosen.
	for l, r := 0, len(items)-1; l < r; l, r = l+1, r-1 {
		items[l], items[r] = items[r], items[l]
	}
	return items, next, nil
}

// entryLines is one entry's lines of the fund log, one per kind of money,
// in the order the entry moved them, carrying the balances forward.
func entryLines(ctx context.Context, postings []dbq.PostingListByUserRow, availableID, frozenID int64,
	carry map[int64]*decimal.Decimal, balanceBefore func(int64) (decimal.Decimal, error), labels *counterparts) ([]FundLogItem, error) {
	var kinds []string
	byKind := map[string][]*dbq.PostingListByUserRow{}
	for k := range postings {
		p := &postings[k]
		kind := p.Kind
		if kind == "" {
			kind = p.Type
		}
		if byKind[kind] == nil {
			kinds = append(kinds, kind)
		}
		byKind[kind] = append(byKind[kind], p)
	}
	lines := make([]FundLogItem, 0, len(kinds))
	for _, kind := range kinds {
		group := byKind[kind]
		var availDelta, frozenDelta decimal.Decimal
		var touchedAvail bool
		var largest *dbq.PostingListByUserRow
		for _, p := range group {
			b := p.BalanceAfter
			carry[p.AccountID] = &b
			if p.AccountID == availableID {
				availDelta = availDelta.Add(p.Amount)
				touchedAvail = true
			} else {
				frozenDelta = frozenDelta.Add(p.Amount)
			}
			if largest == nil || outranks(p, largest, availableID) {
				largest = p
			}
		}
		availAfter, err := balanceBefore(availableID)
		if err != nil {
			return nil, err
		}
		frozenAfter, err := balanceBefore(frozenID)
		if err != nil {
			return nil, err
		}
		amount := frozenDelta
		if touchedAvail {
			amount = availDelta
		}
		counterpart, err := labels.label(ctx, largest.Counterpart, group[0].Ref)
		if err != nil {
			return nil, err
		}
		first := group[0]
		lines = append(lines, FundLogItem{
			ID: first.EntryID, At: first.At, Type: first.Type, Kind: kind, Amount: amount,
			AvailableAfter: availAfter, FrozenAfter: frozenAfter,
			Counterpart: counterpart, Ref: first.Ref, BusinessDate: first.BusinessDate,
		})
	}
	// The snapshot is the receivable after the whole entry; a line before
	// another of the entry was followed by what that one received of the
	// claims' principal and interest, which was still owed after the first.
	pending := postings[0].PendingReceivable
	for k := len(lines) - 1; k >= 0; k-- {
		lines[k].PendingReceivableAfter = pending
		if l := lines[k]; (l.Kind == KindPrincipal || l.Kind == KindInterest) && l.Amount.IsPositive() {
			pending = pending.Add(l.Amount)
		}
	}
	return lines, nil
}

// outranks orders a user's postings within one entry for the counterpart
// label: available before frozen, then by size, then first posted.
func outranks(p, than *dbq.PostingListByUserRow, availableID int64) bool {
	pa, ta := p.AccountID == availableID, than.AccountID == availableID
	if pa != ta {
		return pa
	}
	return p.Amount.Abs().GreaterThan(than.Amount.Abs())
}
