package claims

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// Pay records a borrower's payment on the installments: paid_* grow, and an
// installment owed nothing more is paid on day. It answers the highest
// installment closed so far in a row from the oldest (0: none).
func Pay(insts []*Installment, rs []Receipt, day time.Time) int32 {
	byNo := byNumber(insts)
	for _, r := range rs {
		in := byNo[r.Installment]
		in.PaidPenalty = in.PaidPenalty.Add(r.Paid.Penalty)
		in.PaidInterest = in.PaidInterest.Add(r.Paid.Interest)
		in.PaidPrincipal = in.PaidPrincipal.Add(r.Paid.Principal)
	}
	var through int32
	for _, in := range insts {
		if !in.Closed() {
			break
		}
		if in.Status != lending.InstallmentPaid {
			d := day
			in.Status, in.PaidOn = lending.InstallmentPaid, &d
		}
		through = in.No
	}
	return through
}

// Transfers pays the holders their receipts: summed per destination account,
// in the order holders first appear, as the bank batch's transfers from
// payer and the ledger's postings, each account once, and what each paid
// user receives (for their notices).
func Transfers(insts []*Installment, rs []Receipt, payer string) ([]bank.Transfer, []ledger.Posting, map[int64]decimal.Decimal) {
	byNo := byNumber(insts)
	type dest struct {
		account, ledger string
		userID          int64
		amount          decimal.Decimal
	}
	var order []string
	dests := map[string]*dest{}
	for _, r := range rs {
		c := byNo[r.Installment].Claims[r.Claim]
		d, ok := dests[c.Account]
		if !ok {
			d = &dest{account: c.Account, ledger: c.LedgerAccount(), userID: c.UserID, amount: decimal.Zero}
			dests[c.Account] = d
			order = append(order, c.Account)
		}
		d.amount = d.amount.Add(r.Paid.Total())
	}
	var ts []bank.Transfer
	var ps []ledger.Posting
	perUser := map[int64]decimal.Decimal{}
	for _, a := range order {
		d := dests[a]
		if d.amount.Sign() == 0 {
			continue
		}
		ts = append(ts, bank.Transfer{From: payer, To: d.account, Amount: d.amount})
		ps = append(ps, ledger.Posting{Account: d.ledger, Amount: d.amount})
		if d.userID != 0 {
			perUser[d.userID] = d.amount
		}
	}
	return ts, ps, perUser
}
