package claims

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Accrue brings penalty interest up to day (docs/rules.md "Penalty
// interest"): days × round(unpaid base × 0.05 %) since the later of the due
// date and the last accrual (a stretch with a constant base, since every
// payment and compensation accrues first). The stretch's penalty is split
// among the claims holding the unpaid part: pro rata to the unpaid principal
// + interest each holds, and among the investors within theirs pro rata to
// their bid amounts (docs/rules.md "Investor shares": penalty is split as
// principal and interest are), so that penalty on a compensated part accrues
// for its compensator.
func (in *Installment) Accrue(day time.Time) {
	from := in.DueDate
	if in.PenaltyThrough.After(from) {
		from = in.PenaltyThrough
	}
	days := lending.Days(from, day)
	if days <= 0 {
		return
	}
	in.PenaltyThrough = day
	add := money.PenaltyForDays(in.UnpaidBase(), days)
	if add.Sign() <= 0 {
		return
	}
	in.Penalty = in.Penalty.Add(add)

	// Level one: the investors together, the guarantor, the reserve, by the
	// unpaid principal + interest each group holds.
	groups := []string{Investor, Guarantor, Reserve}
	held := make([]decimal.Decimal, len(groups))
	for g, h := range groups {
		held[g] = decimal.Zero
		for _, c := range in.Claims {
			if c.Holder == h {
				u := c.Unpaid()
				held[g] = held[g].Add(u.Principal).Add(u.Interest)
			}
		}
	}
	for g, part := range money.Split(add, held) {
		if part.Sign() == 0 {
			continue
		}
		// Level two: within the group by weight (bid amounts; a compensator is alone).
		var idx []int
		var weights []decimal.Decimal
		for i, c := range in.Claims {
			u := c.Unpaid()
			if c.Holder == groups[g] && u.Principal.Add(u.Interest).Sign() > 0 {
				idx = append(idx, i)
				weights = append(weights, c.Weight)
			}
		}
		for j, share := range money.Split(part, weights) {
			c := &in.Claims[idx[j]]
			c.Penalty = c.Penalty.Add(share)
		}
	}
}

// AccruePayoff re-plans the interest of a payoff (提前还款, docs/rules.md
// "Early repayment") on the open installments insts, oldest first: the
// current period's (insts[0], which began on periodStart) accrued by days to
// today (money.AccruedInterest), split among the claims pro rata to the bid
// amounts; later periods' interest is never owed.
func AccruePayoff(insts []*Installment, periodStart, today time.Time) {
	cur := insts[0]
	_, accrued := money.PayoffAmount(decimal.Zero, cur.Interest, periodStart, cur.DueDate, today)
	for _, in := range insts {
		owed := decimal.Zero
		if in == cur {
			owed = accrued
		}
		in.Interest = in.PaidInterest.Add(owed)
		weights := make([]decimal.Decimal, len(in.Claims))
		for i, c := range in.Claims {
			weights[i] = c.Weight
		}
		for i, share := range money.Split(owed, weights) {
			in.Claims[i].Interest = in.Claims[i].RecvInterest.Add(share)
		}
	}
}
