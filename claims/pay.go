package claims

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
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
// payer (one per account) and the ledger's postings, and what each paid user
// receives (for their notices). byKind posts each account's principal,
// interest and penalty apart (ledger.Kind*: a repayment's lines of the fund
// log); otherwise one posting per account, of the entry's type (a
// compensation).
func Transfers(insts []*Installment, rs []Receipt, payer string, byKind bool) ([]bank.Transfer, []ledger.Posting, map[int64]decimal.Decimal) {
	byNo := byNumber(insts)
	type dest struct {
		account, ledger string
		userID          int64
		paid            money.Due
	}
	var order []string
	dests := map[string]*dest{}
	for _, r := range rs {
		c := byNo[r.Installment].Claims[r.Claim]
		d, ok := dests[c.Account]
		if !ok {
			d = &dest{account: c.Account, ledger: c.LedgerAccount(), userID: c.UserID}
			dests[c.Account] = d
			order = append(order, c.Account)
		}
		d.paid = addDue(d.paid, r.Paid)
	}
	var ts []bank.Transfer
	var ps []ledger.Posting
	perUser := map[int64]decimal.Decimal{}
	for _, a := range order {
		d := dests[a]
		total := d.paid.Total()
		if total.Sign() == 0 {
			continue
		}
		ts = append(ts, bank.Transfer{From: payer, To: d.account, Amount: total})
		if byKind {
			ps = append(ps, KindPostings(d.ledger, d.paid, false)...)
		} else {
			ps = append(ps, ledger.Posting{Account: d.ledger, Amount: total})
		}
		if d.userID != 0 {
			perUser[d.userID] = total
		}
	}
	return ts, ps, perUser
}

// Paid is what the receipts pay, by part.
func Paid(rs []Receipt) money.Due {
	var out money.Due
	for _, r := range rs {
		out = addDue(out, r.Paid)
	}
	return out
}

// KindPostings are the postings on account of due's principal, interest and
// penalty, in that order, each of its kind (ledger.Kind*), parts of zero left
// out; out posts them as debits (the payer's side).
func KindPostings(account string, due money.Due, out bool) []ledger.Posting {
	var ps []ledger.Posting
	for _, part := range []struct {
		kind   string
		amount decimal.Decimal
	}{{ledger.KindPrincipal, due.Principal}, {ledger.KindInterest, due.Interest}, {ledger.KindPenalty, due.Penalty}} {
		if part.amount.Sign() == 0 {
			continue
		}
		amt := part.amount
		if out {
			amt = amt.Neg()
		}
		ps = append(ps, ledger.Posting{Account: account, Amount: amt, Kind: part.kind})
	}
	return ps
}

func addDue(a, b money.Due) money.Due {
	return money.Due{Penalty: a.Penalty.Add(b.Penalty), Interest: a.Interest.Add(b.Interest), Principal: a.Principal.Add(b.Principal)}
}
