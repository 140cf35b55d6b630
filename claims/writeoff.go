package claims

import (
	"time"

	"github.com/shopspring/decimal"
)

// Loss is what one holder loses when its loan is written off.
type Loss struct {
	Claim  Claim // the holder's first claim: its holder, user and bid
	Amount decimal.Decimal
}

// Losses is the write-off rule (核销, docs/rules.md "Write-off"): every open
// claim's unpaid principal, interest and penalty accrued to day is closed as
// its holder's loss, summed per holder across the installments, in the order
// holders first appear (investors by bid, then the compensator). What each
// holder lost is what later recoveries are shared by (package recovery). It
// accrues insts to day.
func Losses(insts []*Installment, day time.Time) []Loss {
	var out []Loss
	at := map[string]int{}
	for _, i := range insts {
		i.Accrue(day)
		for _, c := range i.Claims {
			k, ok := at[c.Key()]
			if !ok {
				k = len(out)
				at[c.Key()] = k
				out = append(out, Loss{Claim: c, Amount: decimal.Zero})
			}
			out[k].Amount = out[k].Amount.Add(c.Unpaid().Total())
		}
	}
	return out
}
