package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Claim holders (docs/rules.md "Claim holders"; docs/collection.md): at first the
// investors, one claim per bid; after an M3 compensation the guarantor or the
// risk reserve holds the part it paid.
const (
	holderInvestor  = "investor"
	holderGuarantor = "guarantor"
	holderReserve   = "reserve"
)

// claim is one holder's claim on one installment: what it is owed (planned
// shares for an investor, what it paid for a compensator; Penalty is its
// share of the penalty accrued so far) and what it has received.
type claim struct {
	Holder  string
	BidID   int64 // investors
	UserID  int64 // investors and guarantors; 0 for the reserve
	Weight  decimal.Decimal
	Account string // where the bank pays it: a custody account, or the risk-reserve account

	Principal, Interest, Penalty             decimal.Decimal
	RecvPrincipal, RecvInterest, RecvPenalty decimal.Decimal
}

// key names the holder across installments: bid:7, guarantor:12, reserve.
func (c claim) key() string {
	switch c.Holder {
	case holderInvestor:
		return fmt.Sprintf("bid:%d", c.BidID)
	case holderGuarantor:
		return fmt.Sprintf("guarantor:%d", c.UserID)
	}
	return holderReserve
}

func (c claim) unpaid() money.Due {
	return money.Due{Penalty: c.Penalty.Sub(c.RecvPenalty), Interest: c.Interest.Sub(c.RecvInterest), Principal: c.Principal.Sub(c.RecvPrincipal)}
}

// ledgerAccount is the account of the platform's books the claim is paid into.
func (c claim) ledgerAccount() string {
	if c.Holder == holderReserve {
		return ledger.PlatformRiskReserve
	}
	return ledger.UserAvailable(c.UserID)
}

// installment is one open installment with its claims, as the money rules
// see it; its methods are pure.
type installment struct {
	No      int32
	DueDate time.Time
	Status  lending.InstallmentStatus

	Principal, Interest                      decimal.Decimal
	PaidPrincipal, PaidInterest, PaidPenalty decimal.Decimal
	Penalty                                  decimal.Decimal // accrued through PenaltyThrough
	PenaltyThrough                           time.Time
	Compensated                              decimal.Decimal
	PaidOn                                   *time.Time
	Claims                                   []claim

	// loaded is the installment as loadOpen read it, so saveOpen writes
	// only what a plan changed (nil: write it all).
	loaded *installment
}

// sameRow reports whether the installment's own columns equal o's.
func (in *installment) sameRow(o *installment) bool {
	return in.Status == o.Status && in.Interest.Equal(o.Interest) && in.Penalty.Equal(o.Penalty) &&
		in.PenaltyThrough.Equal(o.PenaltyThrough) && in.PaidPrincipal.Equal(o.PaidPrincipal) &&
		in.PaidInterest.Equal(o.PaidInterest) && in.PaidPenalty.Equal(o.PaidPenalty) &&
		in.Compensated.Equal(o.Compensated) && samePtrDate(in.PaidOn, o.PaidOn)
}

// loadedClaim is the claim with c's key as loaded, if any.
func (in *installment) loadedClaim(c claim) (claim, bool) {
	if in.loaded == nil {
		return claim{}, false
	}
	for _, o := range in.loaded.Claims {
		if o.key() == c.key() {
			return o, true
		}
	}
	return claim{}, false
}

// sameFigures reports whether the claim's saved columns equal o's.
func (c claim) sameFigures(o claim) bool {
	return c.UserID == o.UserID && c.Principal.Equal(o.Principal) && c.Interest.Equal(o.Interest) && c.Penalty.Equal(o.Penalty) &&
		c.RecvPrincipal.Equal(o.RecvPrincipal) && c.RecvInterest.Equal(o.RecvInterest) && c.RecvPenalty.Equal(o.RecvPenalty)
}

func samePtrDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// unpaidBase is the base of penalty interest: the installment's unpaid
// principal + interest (docs/rules.md "Penalty interest").
func (in *installment) unpaidBase() decimal.Decimal {
	return in.Principal.Sub(in.PaidPrincipal).Add(in.Interest).Sub(in.PaidInterest)
}

// due is what the borrower still owes on the installment, by part.
func (in *installment) due() money.Due {
	return money.Due{Penalty: in.Penalty.Sub(in.PaidPenalty), Interest: in.Interest.Sub(in.PaidInterest), Principal: in.Principal.Sub(in.PaidPrincipal)}
}

func (in *installment) closed() bool { return in.due().Total().Sign() <= 0 }

// accrue brings penalty interest up to day: days × round(unpaid base ×
// 0.05 %) since the later of the due date and the last accrual (a stretch
// with a constant base, since every payment and compensation accrues first).
// The stretch's penalty is split among the claims holding the unpaid part:
// pro rata to the unpaid principal + interest each holds, and among the
// investors within theirs pro rata to their bid amounts (docs/rules.md "Investor
// shares": penalty is split as principal and interest are), so that penalty
// on a compensated part accrues for its compensator.
func (in *installment) accrue(day time.Time) {
	from := in.DueDate
	if in.PenaltyThrough.After(from) {
		from = in.PenaltyThrough
	}
	days := lending.Days(from, day)
	if days <= 0 {
		return
	}
	in.PenaltyThrough = day
	add := money.PenaltyForDays(in.unpaidBase(), days)
	if add.Sign() <= 0 {
		return
	}
	in.Penalty = in.Penalty.Add(add)

	// Level one: the investors together, the guarantor, the reserve, by the
	// unpaid principal + interest each group holds.
	groups := []string{holderInvestor, holderGuarantor, holderReserve}
	held := make([]decimal.Decimal, len(groups))
	for g, h := range groups {
		held[g] = decimal.Zero
		for _, c := range in.Claims {
			if c.Holder == h {
				u := c.unpaid()
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
			u := c.unpaid()
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

// receipt is what one claim receives of one payment.
type receipt struct {
	Installment int32
	Claim       int // index into the installment's claims
	Paid        money.Due
}

// waterfall applies payment across installments (oldest first) and within
// each to penalty, then interest, then principal (docs/rules.md "partial
// payment"), counting only the claims holders admits; each part is split
// among those claims pro rata to what each is still owed of it, so repeated
// partial payments converge exactly on every claim's share. It returns the
// receipts and what is left of the payment.
func waterfall(payment decimal.Decimal, insts []*installment, admits func(claim) bool) ([]receipt, decimal.Decimal) {
	dues := make([]money.Due, len(insts))
	for i, in := range insts {
		dues[i] = money.Due{Penalty: decimal.Zero, Interest: decimal.Zero, Principal: decimal.Zero}
		for _, c := range in.Claims {
			if admits(c) {
				u := c.unpaid()
				dues[i].Penalty = dues[i].Penalty.Add(u.Penalty)
				dues[i].Interest = dues[i].Interest.Add(u.Interest)
				dues[i].Principal = dues[i].Principal.Add(u.Principal)
			}
		}
	}
	applied, left := money.Allocate(payment, dues)
	var out []receipt
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
					weights[j] = owed(c.unpaid())
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
				out = append(out, receipt{Installment: in.No, Claim: j, Paid: p})
			}
		}
	}
	return out, left
}

// receive records what the claims received (a borrower's payment or a
// compensation) on the claims themselves.
func receive(insts []*installment, rs []receipt) {
	byNo := map[int32]*installment{}
	for _, in := range insts {
		byNo[in.No] = in
	}
	for _, r := range rs {
		c := &byNo[r.Installment].Claims[r.Claim]
		c.RecvPenalty = c.RecvPenalty.Add(r.Paid.Penalty)
		c.RecvInterest = c.RecvInterest.Add(r.Paid.Interest)
		c.RecvPrincipal = c.RecvPrincipal.Add(r.Paid.Principal)
	}
}

// payInstallments records a borrower's payment on the installments: paid_*
// grow, and an installment owed nothing more is paid on day. It answers the
// highest installment closed so far in a row from the oldest (0: none).
func payInstallments(insts []*installment, rs []receipt, day time.Time) int32 {
	byNo := map[int32]*installment{}
	for _, in := range insts {
		byNo[in.No] = in
	}
	for _, r := range rs {
		in := byNo[r.Installment]
		in.PaidPenalty = in.PaidPenalty.Add(r.Paid.Penalty)
		in.PaidInterest = in.PaidInterest.Add(r.Paid.Interest)
		in.PaidPrincipal = in.PaidPrincipal.Add(r.Paid.Principal)
	}
	var through int32
	for _, in := range insts {
		if !in.closed() {
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

// transfers sums receipts per destination account, in the order holders
// first appear: the bank batch's transfers from payer, and the ledger's
// postings, each account once.
func transfers(insts []*installment, rs []receipt, payer string) ([]bank.Transfer, []ledger.Posting, map[int64]decimal.Decimal) {
	byNo := map[int32]*installment{}
	for _, in := range insts {
		byNo[in.No] = in
	}
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
			d = &dest{account: c.Account, ledger: c.ledgerAccount(), userID: c.UserID, amount: decimal.Zero}
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

// loadOpen reads the loan's open installments with every claim on them.
func loadOpen(ctx context.Context, q *dbq.Queries, loanID int64) ([]*installment, error) {
	rows, err := q.ClaimInstallmentsOpen(ctx, loanID)
	if err != nil {
		return nil, err
	}
	var out []*installment
	byNo := map[int32]*installment{}
	for _, r := range rows {
		in := &installment{No: r.No, DueDate: r.DueDate, Status: r.Status, Principal: r.Principal, Interest: r.Interest,
			PaidPrincipal: r.PaidPrincipal, PaidInterest: r.PaidInterest, PaidPenalty: r.PaidPenalty, Penalty: r.Penalty,
			Compensated: r.Compensated, PaidOn: r.PaidOn}
		if r.PenaltyThrough != nil {
			in.PenaltyThrough = *r.PenaltyThrough
		}
		out = append(out, in)
		byNo[r.No] = in
	}
	shares, err := q.ClaimSharesOpen(ctx, loanID)
	if err != nil {
		return nil, err
	}
	for _, s := range shares {
		acct := ""
		if s.CustodyAccountNo != nil {
			acct = *s.CustodyAccountNo
		}
		byNo[s.No].Claims = append(byNo[s.No].Claims, claim{Holder: holderInvestor, BidID: s.BidID, UserID: s.InvestorID, Weight: s.BidAmount,
			Account: acct, Principal: s.Principal, Interest: s.Interest, Penalty: s.Penalty,
			RecvPrincipal: s.ReceivedPrincipal, RecvInterest: s.ReceivedInterest, RecvPenalty: s.ReceivedPenalty})
	}
	comp, err := q.ClaimCompensatorOpen(ctx, loanID)
	if err != nil {
		return nil, err
	}
	for _, c := range comp {
		cl := claim{Holder: c.Holder, Weight: decimal.NewFromInt(1), Principal: c.Principal, Interest: c.Interest, Penalty: c.Penalty,
			RecvPrincipal: c.ReceivedPrincipal, RecvInterest: c.ReceivedInterest, RecvPenalty: c.ReceivedPenalty, Account: bank.AccountRiskReserve}
		if c.UserID != nil {
			cl.UserID = *c.UserID
			if c.CustodyAccountNo != nil {
				cl.Account = *c.CustodyAccountNo
			}
		}
		byNo[c.No].Claims = append(byNo[c.No].Claims, cl)
	}
	for _, in := range out {
		cp := *in
		cp.Claims = slices.Clone(in.Claims)
		in.loaded = &cp
	}
	return out, nil
}

// saveOpen writes the installments and their claims back, as the plan left
// them: only the rows the plan changed, when they came from loadOpen. A
// month's step over a loan with a dozen open installments changes one or
// two; writing them all was two dozen statements a loan (BENCHMARKS.md
// "Fleet and the month's clock").
func saveOpen(ctx context.Context, q *dbq.Queries, loanID int64, insts []*installment) error {
	for _, in := range insts {
		var through *time.Time
		if !in.PenaltyThrough.IsZero() {
			t := in.PenaltyThrough
			through = &t
		}
		if in.loaded == nil || !in.sameRow(in.loaded) {
			if err := q.ClaimInstallmentSave(ctx, dbq.ClaimInstallmentSaveParams{
				LoanID: loanID, No: in.No, Interest: in.Interest, Penalty: in.Penalty, PenaltyThrough: through, PaidPrincipal: in.PaidPrincipal,
				PaidInterest: in.PaidInterest, PaidPenalty: in.PaidPenalty, Compensated: in.Compensated, Status: in.Status, PaidOn: in.PaidOn,
			}); err != nil {
				return err
			}
		}
		for _, c := range in.Claims {
			if o, ok := in.loadedClaim(c); ok && c.sameFigures(o) {
				continue
			}
			var err error
			if c.Holder == holderInvestor {
				err = q.ClaimShareSave(ctx, dbq.ClaimShareSaveParams{LoanID: loanID, No: in.No, BidID: c.BidID, Interest: c.Interest, Penalty: c.Penalty,
					ReceivedPrincipal: c.RecvPrincipal, ReceivedInterest: c.RecvInterest, ReceivedPenalty: c.RecvPenalty})
			} else {
				var user *int64
				if c.UserID != 0 {
					u := c.UserID
					user = &u
				}
				err = q.ClaimCompensatorSave(ctx, dbq.ClaimCompensatorSaveParams{LoanID: loanID, No: in.No, Holder: c.Holder, UserID: user,
					Principal: c.Principal, Interest: c.Interest, Penalty: c.Penalty,
					ReceivedPrincipal: c.RecvPrincipal, ReceivedInterest: c.RecvInterest, ReceivedPenalty: c.RecvPenalty})
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
