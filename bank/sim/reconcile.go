package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
)

// Reconciliation is the day's file (对账文件): every movement stamped with
// that business date, in the order the bank made them.
func (s *Sim) Reconciliation(ctx context.Context, day time.Time) ([]bank.ReconciliationLine, error) {
	rows, err := s.q.MovementListByDate(ctx, day)
	if err != nil {
		return nil, err
	}
	out := make([]bank.ReconciliationLine, 0, len(rows))
	for _, m := range rows {
		out = append(out, bank.ReconciliationLine{
			RequestNo: m.RequestNo, Item: int(m.Item), Type: m.Type, From: m.FromAccount, To: m.ToAccount,
			Amount: m.Amount, Status: bank.Status(m.Status), BusinessDate: m.BusinessDate, Time: m.CreatedAt,
			FreezeRequestNo: m.FreezeRequestNo, Purpose: m.Purpose,
		})
	}
	return out, nil
}

// Check verifies the bank's own books, for tests to call after anything
// concurrent or faulty:
//   - every account's available and frozen balance equals the replay of the
//     movements that touched it (no money moved without a movement, none
//     recorded without moving);
//   - every account's frozen balance equals its active freezes;
//   - no balance is negative;
//   - money is conserved: all balances together equal recharges + deposits +
//     bonus top-ups + card reversals − withdrawals (fees, and their return
//     on a reversal, stay inside, in P-FEE).
func (s *Sim) Check(ctx context.Context) error {
	accts, err := s.q.AccountListAll(ctx)
	if err != nil {
		return err
	}
	moves, err := s.q.MovementListAll(ctx)
	if err != nil {
		return err
	}
	freezes, err := s.q.FreezeListActive(ctx)
	if err != nil {
		return err
	}
	type bal struct{ avail, frozen decimal.Decimal }
	want := map[string]*bal{}
	get := func(no string) *bal {
		if want[no] == nil {
			want[no] = &bal{}
		}
		return want[no]
	}
	inflow := decimal.Zero
	for _, m := range moves {
		switch m.Type {
		case bank.MoveWithdrawalReversal:
			get(m.ToAccount).avail = get(m.ToAccount).avail.Add(m.Amount)
			if m.FromAccount == bank.AccountFee { // the fee's return moves inside custody
				get(m.FromAccount).avail = get(m.FromAccount).avail.Sub(m.Amount)
			} else {
				inflow = inflow.Add(m.Amount)
			}
		case bank.MoveRecharge, bank.MoveDeposit, bank.MoveBonusTopUp:
			get(m.ToAccount).avail = get(m.ToAccount).avail.Add(m.Amount)
			inflow = inflow.Add(m.Amount)
		case bank.MoveWithdrawal:
			get(m.FromAccount).avail = get(m.FromAccount).avail.Sub(m.Amount)
			inflow = inflow.Sub(m.Amount)
		case bank.MoveFreeze:
			b := get(m.FromAccount)
			b.avail, b.frozen = b.avail.Sub(m.Amount), b.frozen.Add(m.Amount)
		case bank.MoveUnfreeze:
			b := get(m.FromAccount)
			b.avail, b.frozen = b.avail.Add(m.Amount), b.frozen.Sub(m.Amount)
		case bank.MoveWithdrawalFee, bank.MoveTransfer, bank.MoveBatch:
			from := get(m.FromAccount)
			if m.FreezeRequestNo != "" {
				from.frozen = from.frozen.Sub(m.Amount)
			} else {
				from.avail = from.avail.Sub(m.Amount)
			}
			get(m.ToAccount).avail = get(m.ToAccount).avail.Add(m.Amount)
		default:
			return fmt.Errorf("movement %d has unknown type %q", m.ID, m.Type)
		}
	}
	frozenByFreezes := map[string]decimal.Decimal{}
	for _, f := range freezes {
		frozenByFreezes[f.AccountNo] = frozenByFreezes[f.AccountNo].Add(f.Amount)
	}
	var bad []string
	total := decimal.Zero
	for _, a := range accts {
		w := get(a.AccountNo)
		total = total.Add(a.Available).Add(a.Frozen)
		if !a.Available.Equal(w.avail) || !a.Frozen.Equal(w.frozen) {
			bad = append(bad, fmt.Sprintf("%s holds %s/%s (available/frozen) but its movements make %s/%s",
				a.AccountNo, a.Available.StringFixed(2), a.Frozen.StringFixed(2), w.avail.StringFixed(2), w.frozen.StringFixed(2)))
		}
		if !a.Frozen.Equal(frozenByFreezes[a.AccountNo]) {
			bad = append(bad, fmt.Sprintf("%s has %s frozen but %s in active freezes",
				a.AccountNo, a.Frozen.StringFixed(2), frozenByFreezes[a.AccountNo].StringFixed(2)))
		}
		if a.Available.IsNegative() || a.Frozen.IsNegative() {
			bad = append(bad, fmt.Sprintf("%s is negative", a.AccountNo))
		}
		delete(want, a.AccountNo)
	}
	for no := range want {
		if !strings.HasPrefix(no, "card:") && no != bank.ExternalAccount {
			bad = append(bad, fmt.Sprintf("movements name %s, which is not an account", no))
		}
	}
	if !total.Equal(inflow) {
		bad = append(bad, fmt.Sprintf("accounts hold %s but recharges + deposits + reversals − withdrawals = %s",
			total.StringFixed(2), inflow.StringFixed(2)))
	}
	if len(bad) > 0 {
		return fmt.Errorf("bank sim books incoherent:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}
