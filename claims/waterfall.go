package claims

import (
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/money"
)

// Receipt is what one claim receives of one payment.
type Receipt struct {
	Installment int32
	Claim       int // index into the installment's claims
	Paid        money.Due
}

// Waterfall applies payment across installments (oldest first) and within
// each to penalty, then interest, then principal (docs/rules.md "Waterfall",
// "Partial payment"), counting only the claims admits; each part is split
// among those claims pro rata to what each is still owed of it, so repeated
// partial payments converge exactly on every claim's share. It returns the
// receipts and what is left of the payment.
func Waterfall(payment decimal.Decimal, insts []*Installment, admits func(Claim) bool) ([]Receipt, decimal.Decimal) {
	dues := make([]money.Due, len(insts))
	for i, in := range insts {
		dues[i] = money.Due{Penalty: decimal.Zero, Interest: decimal.Zero, Principal: decimal.Zero}
		for _, c := range in.Claims {
			if admits(c) {
				u := c.Unpaid()
				dues[i].Penalty = dues[i].Penalty.Add(u.Penalty)
				dues[i].Interest = dues[i].Interest.Add(u.Interest)
				dues[i].Principal = dues[i].Principal.Add(u.Principal)
			}
		}
	}
	applied, left := money.Allocate(payment, dues)
	var out []Receipt
	for i, in := range insts {
		if applied[i].Total().Sign() == 0 {
			continue
		}
		paid := make([]money.Due, len(in.Claims))
		part := func(amount decimal.Decimal, owed func(money.Due) decimal.Decimal, set func(*money.Due, decimal.Decimal)) {
			weights := make([]decimal.Decimal, len(in.Claims))
			for j, c := range in.Claims {
				weights[j] = decimal.Zero
				if admits(c) {
					weights[j] = owed(c.Unpaid())
				}
			}
			if amount.Sign() == 0 {
				for j := range paid {
					set(&paid[j], decimal.Zero)
				}
				return
			}
			for j, s := range money.Split(amount, weights) {
				set(&paid[j], s)
			}
		}
		part(applied[i].Penalty, func(d money.Due) decimal.Decimal { return d.Penalty }, func(d *money.Due, v decimal.Decimal) { d.Penalty = v })
		part(applied[i].Interest, func(d money.Due) decimal.Decimal { return d.Interest }, func(d *money.Due, v decimal.Decimal) { d.Interest = v })
		part(applied[i].Principal, func(d money.Due) decimal.Decimal { return d.Principal }, func(d *money.Due, v decimal.Decimal) { d.Principal = v })
		for j, p := range paid {
			if p.Total().Sign() != 0 {
				out = append(out, Receipt{Installment: in.No, Claim: j, Paid: p})
			}
		}
	}
	return out, left
}

// Receive records what the claims received (a borrower's payment or a
// compensation) on the claims themselves.
func Receive(insts []*Installment, rs []Receipt) {
	byNo := byNumber(insts)
	for _, r := range rs {
		c := &byNo[r.Installment].Claims[r.Claim]
		c.RecvPenalty = c.RecvPenalty.Add(r.Paid.Penalty)
		c.RecvInterest = c.RecvInterest.Add(r.Paid.Interest)
		c.RecvPrincipal = c.RecvPrincipal.Add(r.Paid.Principal)
	}
}

func byNumber(insts []*Installment) map[int32]*Installment {
	byNo := make(map[int32]*Installment, len(insts))
	for _, in := range insts {
		byNo[in.No] = in
	}
	return byNo
}
