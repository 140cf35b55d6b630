package claims

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lendflow/lendflow/lending"
)

// Partial payments converge on every claim's share exactly: each part goes
// pro rata to what each claim is still owed of it.
func TestWaterfallConvergesOnTheShares(t *testing.T) {
	in := twoClaims()
	insts := []*Installment{in}
	for _, pay := range []string{"100.00", "0.01", "333.33", "585.05"} {
		rs, _ := Waterfall(d(pay), insts, All)
		Receive(insts, rs)
		Pay(insts, rs, day(2026, 2, 28))
	}
	assert.Equal(t, lending.InstallmentPaid, in.Status)
	for _, c := range in.Claims {
		assert.True(t, c.RecvPrincipal.Equal(c.Principal), "%+v", c)
		assert.True(t, c.RecvInterest.Equal(c.Interest), "%+v", c)
	}
	// Interest goes first: the first 100.00 pays all 27.50 of it.
	in2 := twoClaims()
	rs, _ := Waterfall(d("100.00"), []*Installment{in2}, All)
	Receive([]*Installment{in2}, rs)
	assert.Equal(t, []string{"9.17", "18.33"}, []string{in2.Claims[0].RecvInterest.StringFixed(2), in2.Claims[1].RecvInterest.StringFixed(2)})
	assert.Equal(t, "72.50", in2.Claims[0].RecvPrincipal.Add(in2.Claims[1].RecvPrincipal).StringFixed(2))
}

// The oldest installment first: a payment that covers the first exactly
// leaves the second untouched.
func TestWaterfallOldestFirst(t *testing.T) {
	a, b := twoClaims(), twoClaims()
	b.No, b.DueDate = 2, day(2026, 3, 31)
	rs, left := Waterfall(d("1100.00"), []*Installment{a, b}, All)
	assert.Equal(t, "0.00", left.StringFixed(2))
	Receive([]*Installment{a, b}, rs)
	through := Pay([]*Installment{a, b}, rs, day(2026, 3, 31))
	assert.Equal(t, int32(1), through)
	assert.Equal(t, "81.61", b.PaidInterest.Add(b.PaidPrincipal).StringFixed(2), "1100.00 − 1018.39")
}
