package claims

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Penalty accrues per day on what is unpaid, rounded per day, and each
// stretch is split among the investors pro rata to their bids (docs/rules.md
// "Penalty interest", "Investor shares").
func TestAccrueByStretches(t *testing.T) {
	in := twoClaims()
	in.Accrue(day(2026, 2, 28))
	assert.True(t, in.Penalty.IsZero(), "nothing on the due date")
	in.Accrue(day(2026, 3, 10)) // 10 days × round(1018.39 × 0.0005) = 10 × 0.51
	assert.Equal(t, "5.10", in.Penalty.StringFixed(2))
	assert.Equal(t, []string{"1.70", "3.40"}, []string{in.Claims[0].Penalty.StringFixed(2), in.Claims[1].Penalty.StringFixed(2)})
	in.Accrue(day(2026, 3, 10))
	assert.Equal(t, "5.10", in.Penalty.StringFixed(2), "accruing twice to one day adds nothing")

	// A partial payment of 1,000.00 (penalty, interest, then principal) leaves 23.49 of principal.
	rs, left := Waterfall(d("1000.00"), []*Installment{in}, All)
	require.True(t, left.IsZero())
	Receive([]*Installment{in}, rs)
	assert.Equal(t, 0, int(Pay([]*Installment{in}, rs, day(2026, 3, 10))))
	assert.Equal(t, "23.49", in.UnpaidBase().StringFixed(2))
	// Penalty then accrues on 23.49 alone: 5 × round(23.49 × 0.0005) = 5 × 0.01.
	in.Accrue(day(2026, 3, 15))
	assert.Equal(t, "5.15", in.Penalty.StringFixed(2))
}
