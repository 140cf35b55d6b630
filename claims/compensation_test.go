package claims

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// After a compensation the compensator holds its part: penalty on it accrues
// to the compensator, the rest to the investors (docs/rules.md "compensation").
func TestPenaltyOnACompensatedPartAccruesToTheCompensator(t *testing.T) {
	in := twoClaims()
	in.Accrue(day(2026, 4, 30)) // DPD 61: 61 × 0.51 = 31.11
	// The reserve pays 509.20 of the 1,049.50 owed: half the installment's P+I after the penalty.
	rs, _ := Waterfall(d("509.20"), []*Installment{in}, Investors)
	Receive([]*Installment{in}, rs)
	Compensate([]*Installment{in}, rs, Reserve, 0, "P-RISK")
	require.Len(t, in.Claims, 3)
	held := in.Claims[2]
	assert.Equal(t, Reserve, held.Holder)
	assert.Equal(t, "509.20", in.Compensated.StringFixed(2))
	assert.Equal(t, "31.11", held.Penalty.StringFixed(2))
	assert.Equal(t, "27.50", held.Interest.StringFixed(2))
	assert.Equal(t, "450.59", held.Principal.StringFixed(2))
	// The borrower still owes all 1,018.39 of P+I; from now the penalty on it
	// splits by who holds it: the reserve 478.09, the investors 540.30.
	before := in.Claims[2].Penalty
	in.Accrue(day(2026, 5, 10)) // 10 × 0.51 = 5.10
	gotReserve := in.Claims[2].Penalty.Sub(before)
	assert.Equal(t, "2.39", gotReserve.StringFixed(2), "5.10 × 478.09 / 1018.39 = 2.394")
}
