package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/lendflow/lendflow/db"
)

// ConservationError lists every way the books are found broken.
type ConservationError struct {
	Violations []string
}

func (e *ConservationError) Error() string {
	return fmt.Sprintf("ledger: %d conservation violation(s):\n  %s", len(e.Violations), strings.Join(e.Violations, "\n  "))
}

// CheckConservation re-derives the ledger's invariants from the rows and
// returns a *ConservationError naming every violation, or nil:
//   - each account's balance = the sum of its postings = its last balance_after,
//     and every balance_after is the running sum up to that posting;
//   - no balance or balance_after below zero except external:cards, and only
//     external:cards may go negative at all;
//   - every journal entry has at least two postings summing to zero;
//   - custody total (every account but external:cards) = −external:cards =
//     recharged + topped up − withdrawn + reversed, where withdrawn is what
//     reached the cards: withdrawal fees stay in custody in platform:fee, and
//     topped up is the platform's own card filling the bonus account
//     (TypeBonusTopUp); only those four entry types touch external:cards;
//   - each user's frozen balance = the sum of their bids in status frozen.
//     Pending bids do not count: their freeze is not confirmed by the bank, so
//     it is not in the ledger yet.
//
// The schema enforces most of these as rows are written; this check is the
// independent audit, run at the end of every concurrent test and by
// reconciliation. Run it in a REPEATABLE READ transaction to see one snapshot
// while others write.
func CheckConservation(ctx context.Context, q DBTX) error {
	queries := db.Queries(q)
	var v []string

	accounts, err := queries.LedgerCheckAccounts(ctx)
	if err != nil {
		return fmt.Errorf("ledger: check accounts: %w", err)
	}
	for _, a := range accounts {
		switch {
		case !a.Balance.Equal(a.PostingsTotal) || !a.Balance.Equal(a.LastBalanceAfter):
			v = append(v, fmt.Sprintf("account %s: balance %s, but its postings sum to %s and the last balance_after is %s",
				a.Code, a.Balance.StringFixed(2), a.PostingsTotal.StringFixed(2), a.LastBalanceAfter.StringFixed(2)))
		case a.Balance.IsNegative():
			v = append(v, fmt.Sprintf("account %s: negative balance %s", a.Code, a.Balance.StringFixed(2)))
		default:
			v = append(v, fmt.Sprintf("account %s: allowed to go negative", a.Code))
		}
	}

	running, err := queries.LedgerCheckRunningBalances(ctx)
	if err != nil {
		return fmt.Errorf("ledger: check running balances: %w", err)
	}
	for _, r := range running {
		v = append(v, fmt.Sprintf("account %s, posting %d of entry %d: balance_after %s, running sum %s",
			r.Code, r.PostingID, r.EntryID, r.BalanceAfter.StringFixed(2), r.Running.StringFixed(2)))
	}

	entries, err := queries.LedgerCheckEntries(ctx)
	if err != nil {
		return fmt.Errorf("ledger: check entries: %w", err)
	}
	for _, e := range entries {
		v = append(v, fmt.Sprintf("entry %d (%s leg %d): %d posting(s) summing to %s",
			e.ID, e.RequestNo, e.Leg, e.Postings, e.Total.StringFixed(2)))
	}

	t, err := queries.LedgerTotals(ctx)
	if err != nil {
		return fmt.Errorf("ledger: totals: %w", err)
	}
	if !t.Custody.Equal(t.External.Neg()) {
		v = append(v, fmt.Sprintf("custody accounts hold %s but external:cards is %s: money appeared or vanished",
			t.Custody.StringFixed(2), t.External.StringFixed(2)))
	}
	if net := t.Recharged.Add(t.ToppedUp).Sub(t.Withdrawn).Add(t.Reversed); !t.Custody.Equal(net) {
		v = append(v, fmt.Sprintf("custody accounts hold %s but recharged %s + bonus top-ups %s − withdrawn %s + reversed %s = %s",
			t.Custody.StringFixed(2), t.Recharged.StringFixed(2), t.ToppedUp.StringFixed(2), t.Withdrawn.StringFixed(2),
			t.Reversed.StringFixed(2), net.StringFixed(2)))
	}
	if t.OtherExternal > 0 {
		v = append(v, fmt.Sprintf("%d posting(s) on external:cards in entries that are not recharges, withdrawals, reversals or bonus top-ups",
			t.OtherExternal))
	}

	frozen, err := queries.LedgerCheckFrozen(ctx)
	if err != nil {
		return fmt.Errorf("ledger: check frozen: %w", err)
	}
	for _, f := range frozen {
		v = append(v, fmt.Sprintf("user %d: frozen balance %s, frozen bids %s",
			f.UserID, f.FrozenBalance.StringFixed(2), f.FrozenBids.StringFixed(2)))
	}

	if len(v) > 0 {
		return &ConservationError{Violations: v}
	}
	return nil
}
