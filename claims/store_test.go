package claims

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

// Save writes back only what a plan changed: each comparison it relies
// on sees every saved column, a value of another scale as the same number,
// and a claim the plan added as new.
func TestSaveSeesWhatAPlanChanged(t *testing.T) {
	loaded := func() *Installment {
		in := twoClaims()
		cp := *in
		cp.Claims = append([]Claim{}, in.Claims...)
		in.loaded = &cp
		return in
	}
	in := loaded()
	assert.True(t, in.sameRow(in.loaded))
	in.Interest = d("27.5000")
	assert.True(t, in.sameRow(in.loaded), "the same number at another scale is the same column")
	for name, change := range map[string]func(*Installment){
		"status":          func(i *Installment) { i.Status = lending.InstallmentOverdue },
		"penalty":         func(i *Installment) { i.Penalty = d("0.26") },
		"penalty through": func(i *Installment) { i.PenaltyThrough = day(2026, 3, 1) },
		"paid principal":  func(i *Installment) { i.PaidPrincipal = d("1.00") },
		"paid interest":   func(i *Installment) { i.PaidInterest = d("1.00") },
		"paid penalty":    func(i *Installment) { i.PaidPenalty = d("0.01") },
		"compensated":     func(i *Installment) { i.Compensated = d("5.00") },
		"paid on":         func(i *Installment) { on := day(2026, 2, 28); i.PaidOn = &on },
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
	held := in.compensator(Reserve, 0, "R")
	_, ok = in.loadedClaim(*held)
	assert.False(t, ok, "a claim the plan added has nothing loaded to match")
}
