package transfer

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// claimA is the earlier of two 6,000.00 bids on 12,000.00 over 6 months at
// 6.5 % (equal installments of 2,038.09), disbursed 2 March 2026: its
// principal shares 986.55, 991.89, 997.26, 1,002.67, 1,008.10, 1,013.53 and
// interest shares 32.50, 27.16, 21.79, 16.38, 10.95, 5.49 (docs/transfer.md
// "The worked example"); paid installments are received in full.
func claimA(paid int) []Share {
	principal := []string{"986.55", "991.89", "997.26", "1002.67", "1008.10", "1013.53"}
	interest := []string{"32.50", "27.16", "21.79", "16.38", "10.95", "5.49"}
	out := make([]Share, len(principal))
	for i := range principal {
		s := Share{No: int32(i + 1), DueDate: day("2026-03-02").AddDate(0, i+1, 0), Status: lending.InstallmentPending,
			Principal: d(principal[i]), Interest: d(interest[i]), RecvPrincipal: decimal.Zero, RecvInterest: decimal.Zero,
			RecvPenalty: decimal.Zero, Compensated: decimal.Zero}
		if i < paid {
			s.Status, s.RecvPrincipal, s.RecvInterest = lending.InstallmentPaid, s.Principal, s.Interest
		}
		out[i] = s
	}
	return out
}

func TestTheWorkedExamplesSales(t *testing.T) {
	// First sale, 20 March: the bidder, holding since 2 March (19 days), at a 1 % discount.
	c := ClaimOf(claimA(0), day("2026-03-02"))
	require.Equal(t, "6000.00", c.Remaining.StringFixed(2))
	require.Equal(t, "32.50", c.Interest.StringFixed(2))
	require.Equal(t, day("2026-04-02"), c.Due)
	require.Equal(t, 6, c.Open)
	require.True(t, c.Untouched)
	q := c.Priced(d("0.01"), day("2026-03-02"), day("2026-03-20"))
	// a = round(32.50 × 18 / 31) = round(18.8709…) = 18.87; price = round(6018.87 × 0.99) = round(5958.6813) = 5958.68.
	require.Equal(t, []string{"6000.00", "18.87", "5958.68", "60.00", "5898.68"},
		[]string{q.Principal.StringFixed(2), q.Accrued.StringFixed(2), q.Price.StringFixed(2), q.Fee.StringFixed(2), q.Proceeds.StringFixed(2)})
	require.Equal(t, 19, q.HoldingDays)

	// Second sale, 20 May: the first buyer, holding since 20 March (62 days), installments 1 and 2
	// paid to it, at a 2 % discount. R = 6000.00 − 986.55 − 991.89 = 4021.56; the period 2 May → 2 June
	// (31 days) has run 18: a = round(21.79 × 18 / 31) = round(12.6522…) = 12.65;
	// price = round(4034.21 × 0.98) = round(3953.5258) = 3953.53; fee = round(4021.56 × 0.5 %) = round(20.1078) = 20.11.
	c = ClaimOf(claimA(2), day("2026-03-02"))
	q = c.Priced(d("0.02"), day("2026-03-20"), day("2026-05-20"))
	require.Equal(t, []string{"4021.56", "12.65", "3953.53", "20.11", "3933.42"},
		[]string{q.Principal.StringFixed(2), q.Accrued.StringFixed(2), q.Price.StringFixed(2), q.Fee.StringFixed(2), q.Proceeds.StringFixed(2)})
	require.Equal(t, 62, q.HoldingDays)
	require.Equal(t, day("2026-06-02"), c.Due)
	require.Equal(t, 4, c.Open)
}

func TestAccruedInterestByDays(t *testing.T) {
	c := ClaimOf(claimA(0), day("2026-03-02"))
	for _, tc := range []struct{ on, want string }{
		{"2026-03-02", "0.00"},  // the period's first day: nothing yet
		{"2026-03-03", "1.05"},  // 32.50 / 31 = 1.0483…
		{"2026-03-27", "26.21"}, // 32.50 × 25 / 31 = 26.2096…
		{"2026-04-02", "32.50"}, // the whole period's, never more
	} {
		require.Equal(t, tc.want, c.Accrued(day(tc.on)).StringFixed(2), tc.on)
	}
}

func TestAnInstallmentPaidAheadLeavesNothingAccrued(t *testing.T) {
	// Installment 1 paid early by hand on 10 March: the current installment is 2,
	// whose period begins on 2 April. The seller had installment 1's interest in full.
	shares := claimA(1)
	c := ClaimOf(shares, day("2026-03-02"))
	require.Equal(t, day("2026-04-02"), c.PeriodStart)
	require.Equal(t, day("2026-05-02"), c.Due)
	require.Equal(t, "0.00", c.Accrued(day("2026-03-15")).StringFixed(2))
	require.Equal(t, "5013.45", c.Remaining.StringFixed(2))
}

func TestATouchedClaimIsNotUntouched(t *testing.T) {
	for name, touch := range map[string]func(*Share){
		"overdue":     func(s *Share) { s.Status = lending.InstallmentOverdue },
		"compensated": func(s *Share) { s.Compensated = d("1.00") },
		"part paid":   func(s *Share) { s.RecvInterest = d("0.01") },
		"penalty":     func(s *Share) { s.RecvPenalty = d("0.01") },
	} {
		shares := claimA(1)
		touch(&shares[1])
		require.False(t, ClaimOf(shares, day("2026-03-02")).Untouched, name)
	}
}

func TestPriceRoundsHalfUp(t *testing.T) {
	// (100.00 + 0.01) × (1 − 0.0005) = 99.959995 → 99.96; 1000.10 × 0.95 = 950.095 → 950.10.
	require.Equal(t, "99.96", Price(d("100.00"), d("0.01"), d("0.0005")).StringFixed(2))
	require.Equal(t, "950.10", Price(d("1000.00"), d("0.10"), d("0.05")).StringFixed(2))
	require.Equal(t, "1000.10", Price(d("1000.00"), d("0.10"), decimal.Zero).StringFixed(2))
}
