package activities

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }

// twoClaims is one installment of 1,018.39 (principal 990.89, interest 27.50)
// held by bids of 1,000.00 and 2,000.00, due 28 February.
func twoClaims() *installment {
	z := decimal.Zero
	return &installment{No: 1, DueDate: day(2026, 2, 28), Status: lending.InstallmentPending,
		Principal: d("990.89"), Interest: d("27.50"), PaidPrincipal: z, PaidInterest: z, PaidPenalty: z, Penalty: z, Compensated: z,
		Claims: []claim{
			{Holder: holderInvestor, BidID: 1, UserID: 10, Weight: d("1000.00"), Account: "A", Principal: d("330.30"), Interest: d("9.17"),
				Penalty: z, RecvPrincipal: z, RecvInterest: z, RecvPenalty: z},
			{Holder: holderInvestor, BidID: 2, UserID: 11, Weight: d("2000.00"), Account: "B", Principal: d("660.59"), Interest: d("18.33"),
				Penalty: z, RecvPrincipal: z, RecvInterest: z, RecvPenalty: z},
		}}
}

func all(claim) bool { return true }

// Penalty accrues per day on what is unpaid, rounded per day, and each
// stretch is split among the investors pro rata to their bids (docs/rules.md
// "Penalty interest", "Investor shares").
func TestAccrueByStretches(t *testing.T) {
	in := twoClaims()
	in.accrue(day(2026, 2, 28))
	assert.True(t, in.Penalty.IsZero(), "nothing on the due date")
	in.accrue(day(2026, 3, 10)) // 10 days × round(1018.39 × 0.0005) = 10 × 0.51
	assert.Equal(t, "5.10", in.Penalty.StringFixed(2))
	assert.Equal(t, []string{"1.70", "3.40"}, []string{in.Claims[0].Penalty.StringFixed(2), in.Claims[1].Penalty.StringFixed(2)})
	in.accrue(day(2026, 3, 10))
	assert.Equal(t, "5.10", in.Penalty.StringFixed(2), "accruing twice to one day adds nothing")

	// A partial payment of 1,000.00 (penalty, interest, then principal) leaves 23.49 of principal.
	rs, left := waterfall(d("1000.00"), []*installment{in}, all)
	require.True(t, left.IsZero())
	receive([]*installment{in}, rs)
	assert.Equal(t, 0, int(payInstallments([]*installment{in}, rs, day(2026, 3, 10))))
	assert.Equal(t, "23.49", in.unpaidBase().StringFixed(2))
	// Penalty then accrues on 23.49 alone: 5 × round(23.49 × 0.0005) = 5 × 0.01.
	in.accrue(day(2026, 3, 15))
	assert.Equal(t, "5.15", in.Penalty.StringFixed(2))
}

// Partial payments converge on every claim's share exactly: each part goes
// pro rata to what each claim is still owed of it.
func TestWaterfallConvergesOnTheShares(t *testing.T) {
	in := twoClaims()
	insts := []*installment{in}
	for _, pay := range []string{"100.00", "0.01", "333.33", "585.05"} {
		rs, _ := waterfall(d(pay), insts, all)
		receive(insts, rs)
		payInstallments(insts, rs, day(2026, 2, 28))
	}
	assert.Equal(t, lending.InstallmentPaid, in.Status)
	for _, c := range in.Claims {
		assert.True(t, c.RecvPrincipal.Equal(c.Principal), "%+v", c)
		assert.True(t, c.RecvInterest.Equal(c.Interest), "%+v", c)
	}
	// Interest goes first: the first 100.00 pays all 27.50 of it.
	in2 := twoClaims()
	rs, _ := waterfall(d("100.00"), []*installment{in2}, all)
	receive([]*installment{in2}, rs)
	assert.Equal(t, []string{"9.17", "18.33"}, []string{in2.Claims[0].RecvInterest.StringFixed(2), in2.Claims[1].RecvInterest.StringFixed(2)})
	assert.Equal(t, "72.50", in2.Claims[0].RecvPrincipal.Add(in2.Claims[1].RecvPrincipal).StringFixed(2))
}

// The oldest installment first: a payment that covers the first exactly
// leaves the second untouched.
func TestWaterfallOldestFirst(t *testing.T) {
	a, b := twoClaims(), twoClaims()
	b.No, b.DueDate = 2, day(2026, 3, 31)
	rs, left := waterfall(d("1100.00"), []*installment{a, b}, all)
	assert.Equal(t, "0.00", left.StringFixed(2))
	receive([]*installment{a, b}, rs)
	through := payInstallments([]*installment{a, b}, rs, day(2026, 3, 31))
	assert.Equal(t, int32(1), through)
	assert.Equal(t, "81.61", b.PaidInterest.Add(b.PaidPrincipal).StringFixed(2), "1100.00 − 1018.39")
}

// After a compensation the compensator holds its part: penalty on it accrues
// to the compensator, the rest to the investors (docs/rules.md "compensation").
func TestPenaltyOnACompensatedPartAccruesToTheCompensator(t *testing.T) {
	in := twoClaims()
	in.accrue(day(2026, 4, 30)) // DPD 61: 61 × 0.51 = 31.11
	investors := func(c claim) bool { return c.Holder == holderInvestor }
	// The reserve pays 509.20 of the 1,049.50 owed: half the installment's P+I after the penalty.
	rs, _ := waterfall(d("509.20"), []*installment{in}, investors)
	receive([]*installment{in}, rs)
	held := compensatorClaim(in, holderReserve, 0, "P-RISK")
	for _, r := range rs {
		held.Principal = held.Principal.Add(r.Paid.Principal)
		held.Interest = held.Interest.Add(r.Paid.Interest)
		held.Penalty = held.Penalty.Add(r.Paid.Penalty)
	}
	assert.Equal(t, "31.11", held.Penalty.StringFixed(2))
	assert.Equal(t, "27.50", held.Interest.StringFixed(2))
	assert.Equal(t, "450.59", held.Principal.StringFixed(2))
	// The borrower still owes all 1,018.39 of P+I; from now the penalty on it
	// splits by who holds it: the reserve 478.09, the investors 540.30.
	before := in.Claims[2].Penalty
	in.accrue(day(2026, 5, 10)) // 10 × 0.51 = 5.10
	gotReserve := in.Claims[2].Penalty.Sub(before)
	assert.Equal(t, "2.39", gotReserve.StringFixed(2), "5.10 × 478.09 / 1018.39 = 2.394")
}

// saveOpen writes back only what a plan changed: each comparison it relies
// on sees every saved column, a value of another scale as the same number,
// and a claim the plan added as new.
func TestSaveOpenSeesWhatAPlanChanged(t *testing.T) {
	loaded := func() *installment {
		in := twoClaims()
		cp := *in
		cp.Claims = append([]claim{}, in.Claims...)
		in.loaded = &cp
		return in
	}
	in := loaded()
	assert.True(t, in.sameRow(in.loaded))
	in.Interest = d("27.5000")
	assert.True(t, in.sameRow(in.loaded), "the same number at another scale is the same column")
	for name, change := range map[string]func(*installment){
		"status":          func(i *installment) { i.Status = lending.InstallmentOverdue },
		"penalty":         func(i *installment) { i.Penalty = d("0.26") },
		"penalty through": func(i *installment) { i.PenaltyThrough = day(2026, 3, 1) },
		"paid principal":  func(i *installment) { i.PaidPrincipal = d("1.00") },
		"paid interest":   func(i *installment) { i.PaidInterest = d("1.00") },
		"paid penalty":    func(i *installment) { i.PaidPenalty = d("0.01") },
		"compensated":     func(i *installment) { i.Compensated = d("5.00") },
		"paid on":         func(i *installment) { on := day(2026, 2, 28); i.PaidOn = &on },
	} {
		in := loaded()
		change(in)
		assert.False(t, in.sameRow(in.loaded), name)
	}

	in = loaded()
	c, ok := in.loadedClaim(in.Claims[1])
	require.True(t, ok)
	assert.True(t, in.Claims[1].sameFigures(c))
	in.Claims[1].RecvInterest = d("18.33")
	assert.False(t, in.Claims[1].sameFigures(c), "a receipt changes the claim")
	held := compensatorClaim(in, holderReserve, 0, "R")
	_, ok = in.loadedClaim(*held)
	assert.False(t, ok, "a claim the plan added has nothing loaded to match")
}
