package claims

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }

// twoClaims is one installment of 1,018.39 (principal 990.89, interest 27.50)
// held by bids of 1,000.00 and 2,000.00, due 28 February.
func twoClaims() *Installment {
	z := decimal.Zero
	return &Installment{No: 1, DueDate: day(2026, 2, 28), Status: lending.InstallmentPending,
		Principal: d("990.89"), Interest: d("27.50"), PaidPrincipal: z, PaidInterest: z, PaidPenalty: z, Penalty: z, Compensated: z,
		Claims: []Claim{
			{Holder: Investor, BidID: 1, UserID: 10, Weight: d("1000.00"), Account: "A", Principal: d("330.30"), Interest: d("9.17"),
				Penalty: z, RecvPrincipal: z, RecvInterest: z, RecvPenalty: z},
			{Holder: Investor, BidID: 2, UserID: 11, Weight: d("2000.00"), Account: "B", Principal: d("660.59"), Interest: d("18.33"),
				Penalty: z, RecvPrincipal: z, RecvInterest: z, RecvPenalty: z},
		}}
}
