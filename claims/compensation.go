package claims

import "github.com/shopspring/decimal"

// Compensate makes the compensator (holder, the guarantor userID or the
// reserve, paid at account) the holder of what its compensation paid, by the
// receipts the investors got of it (docs/rules.md "Compensation"): installment
// by installment it is owed exactly what it paid, the borrower's later
// payments of it go to it, and penalty on that part accrues for it from then
// on. Each installment's compensated amount grows by what was paid on it.
func Compensate(insts []*Installment, rs []Receipt, holder string, userID int64, account string) {
	byNo := byNumber(insts)
	for _, r := range rs {
		i := byNo[r.Installment]
		held := i.compensator(holder, userID, account)
		held.Principal = held.Principal.Add(r.Paid.Principal)
		held.Interest = held.Interest.Add(r.Paid.Interest)
		held.Penalty = held.Penalty.Add(r.Paid.Penalty)
		i.Compensated = i.Compensated.Add(r.Paid.Total())
	}
}

// compensator is the installment's claim of the compensator, added when it
// has none yet (at the end, so receipts' claim indexes stay valid).
func (in *Installment) compensator(holder string, userID int64, account string) *Claim {
	for k := range in.Claims {
		if in.Claims[k].Holder == holder {
			return &in.Claims[k]
		}
	}
	z := decimal.Zero
	in.Claims = append(in.Claims, Claim{Holder: holder, UserID: userID, Weight: decimal.NewFromInt(1), Account: account,
		Principal: z, Interest: z, Penalty: z, RecvPrincipal: z, RecvInterest: z, RecvPenalty: z})
	return &in.Claims[len(in.Claims)-1]
}
