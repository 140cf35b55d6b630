package claims

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A write-off closes each holder's unpaid principal, interest and penalty to
// the day as its loss, summed across the installments, holders in the order
// they first appear (docs/rules.md "Write-off").
func TestLossesAreEachHoldersUnpaidToTheDay(t *testing.T) {
	a, b := twoClaims(), twoClaims()
	b.No, b.DueDate = 2, day(2026, 3, 31)
	// The reserve compensated half of installment 1 at DPD 61.
	a.Accrue(day(2026, 4, 30)) // 61 × 0.51 = 31.11
	rs, _ := Waterfall(d("509.20"), []*Installment{a}, Investors)
	Receive([]*Installment{a}, rs)
	Compensate([]*Installment{a}, rs, Reserve, 0, "P-RISK")

	losses := Losses([]*Installment{a, b}, day(2026, 4, 30))
	var keys, amounts []string
	for _, l := range losses {
		keys, amounts = append(keys, l.Claim.Key()), append(amounts, l.Amount.StringFixed(2))
	}
	assert.Equal(t, []string{"bid:1", "bid:2", "reserve"}, keys)
	// Installment 1: the bids were owed 349.84 and 699.66 (penalty 31.11 split
	// 10.37 / 20.74); the reserve paid them penalty, interest (9.17 / 18.33)
	// and principal 150.20 / 300.39, leaving 180.10 and 360.20. Installment 2
	// is 30 days past due: 30 × 0.51 = 15.30 of penalty, 5.10 / 10.20 by bid,
	// so 344.57 and 689.12. The reserve is owed the 509.20 it paid.
	assert.Equal(t, []string{"524.67", "1049.32", "509.20"}, amounts)
	assert.Equal(t, "2083.19", losses[0].Amount.Add(losses[1].Amount).Add(losses[2].Amount).StringFixed(2),
		"everything the borrower owes: 1,049.50 + 1,033.69, nothing paid")
}
