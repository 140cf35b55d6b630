package transfer

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// The transfer fee (docs/rules.md "Debt transfer"), paid by the seller out of
// the price to the platform's fee account, by the days the seller has held
// the claim, counting the first day (from the disbursement, or from the
// purchase for a claim bought): 1–29 days 1.0 %, 30–90 days 0.5 %, 91 days or
// more 0 % of R, rounded half-up.

// feeTiers are the tiers, by the first holding day each applies from.
var feeTiers = []struct {
	fromDay int
	rate    decimal.Decimal
}{
	{1, decimal.RequireFromString("0.01")},
	{30, decimal.RequireFromString("0.005")},
	{91, decimal.Zero},
}

// HoldingDays is how many days a holder has held a claim on day, counting
// the first: held from today, 1.
func HoldingDays(heldFrom, day time.Time) int { return lending.Days(heldFrom, day) + 1 }

// FeeRate is the fee's rate for a holding of days.
func FeeRate(days int) decimal.Decimal {
	rate := feeTiers[0].rate
	for _, t := range feeTiers {
		if days >= t.fromDay {
			rate = t.rate
		}
	}
	return rate
}

// Fee is the seller's fee on a claim of remaining principal R held for days.
func Fee(principal decimal.Decimal, days int) decimal.Decimal {
	return money.Round(principal.Mul(FeeRate(days)))
}
