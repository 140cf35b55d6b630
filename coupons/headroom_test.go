package coupons

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
)

// TestHeadroomAdmitsUpToItself: headroom = available − liabilities; a coupon
// whose most is the headroom exactly is granted, a fen more is refused.
func TestHeadroomAdmitsUpToItself(t *testing.T) {
	b := NewBudget(d("1000.00"), d("900.00"))
	require.Equal(t, "100.00", b.Headroom.StringFixed(2))
	require.NoError(t, b.Admit(d("100.00")))
	err := b.Admit(d("100.01"))
	require.Equal(t, errs.BonusBudgetExceeded, errs.Code(err), "%v", err)
}
