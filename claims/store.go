package claims

import (
	"context"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
)

// Load reads the loan's open installments with every claim on them.
func Load(ctx context.Context, q *dbq.Queries, loanID int64) ([]*Installment, error) {
	rows, err := q.ClaimInstallmentsOpen(ctx, loanID)
	if err != nil {
		return nil, err
	}
	var out []*Installment
	byNo := map[int32]*Installment{}
	for _, r := range rows {
		in := &Installment{No: r.No, DueDate: r.DueDate, Status: r.Status, Principal: r.Principal, Interest: r.Interest,
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
		byNo[s.No].Claims = append(byNo[s.No].Claims, Claim{Holder: Investor, BidID: s.BidID, UserID: s.InvestorID, Weight: s.BidAmount,
			Account: acct, Principal: s.Principal, Interest: s.Interest, Penalty: s.Penalty,
			RecvPrincipal: s.ReceivedPrincipal, RecvInterest: s.ReceivedInterest, RecvPenalty: s.ReceivedPenalty})
	}
	comp, err := q.ClaimCompensatorOpen(ctx, loanID)
	if err != nil {
		return nil, err
	}
	for _, c := range comp {
		cl := Claim{Holder: c.Holder, Weight: decimal.NewFromInt(1), Principal: c.Principal, Interest: c.Interest, Penalty: c.Penalty,
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

// Save writes the installments and their claims back, as the plan left
// them: only the rows the plan changed, when they came from Load. A month's
// step over a loan with a dozen open installments changes one or two;
// writing them all was two dozen statements a loan (BENCHMARKS.md "Fleet and
// the month's clock").
func Save(ctx context.Context, q *dbq.Queries, loanID int64, insts []*Installment) error {
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
			if c.Holder == Investor {
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

// sameRow reports whether the installment's own columns equal o's.
func (in *Installment) sameRow(o *Installment) bool {
	return in.Status == o.Status && in.Interest.Equal(o.Interest) && in.Penalty.Equal(o.Penalty) &&
		in.PenaltyThrough.Equal(o.PenaltyThrough) && in.PaidPrincipal.Equal(o.PaidPrincipal) &&
		in.PaidInterest.Equal(o.PaidInterest) && in.PaidPenalty.Equal(o.PaidPenalty) &&
		in.Compensated.Equal(o.Compensated) && samePtrDate(in.PaidOn, o.PaidOn)
}

// loadedClaim is the claim with c's key as loaded, if any.
func (in *Installment) loadedClaim(c Claim) (Claim, bool) {
	if in.loaded == nil {
		return Claim{}, false
	}
	for _, o := range in.loaded.Claims {
		if o.Key() == c.Key() {
			return o, true
		}
	}
	return Claim{}, false
}

// sameFigures reports whether the claim's saved columns equal o's.
func (c Claim) sameFigures(o Claim) bool {
	return c.UserID == o.UserID && c.Principal.Equal(o.Principal) && c.Interest.Equal(o.Interest) && c.Penalty.Equal(o.Penalty) &&
		c.RecvPrincipal.Equal(o.RecvPrincipal) && c.RecvInterest.Equal(o.RecvInterest) && c.RecvPenalty.Equal(o.RecvPenalty)
}

func samePtrDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
