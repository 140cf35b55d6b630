package accounts

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
)

// Recharge is money moved from the user's bound card into their available
// balance (docs/rules.md "Recharge"). Status: processing, succeeded or failed.
type Recharge struct {
	ID           int64
	UserID       int64
	Amount       decimal.Decimal
	Status       string
	BusinessDate time.Time
}

// Withdrawal is money paid out to the bound card (docs/rules.md "Withdrawal fee",
// "Withdrawal route"). Status: processing, succeeded, failed or reversed.
type Withdrawal struct {
	ID           int64
	UserID       int64
	Amount       decimal.Decimal
	Fee          decimal.Decimal
	Route        string // super_ebank | large_value
	Status       string
	BusinessDate time.Time
}

func rechargeFrom(r dbq.Recharge) Recharge {
	return Recharge{ID: r.ID, UserID: r.UserID, Amount: r.Amount, Status: r.Status, BusinessDate: r.BusinessDate}
}

func withdrawalFrom(w dbq.Withdrawal) Withdrawal {
	return Withdrawal{ID: w.ID, UserID: w.UserID, Amount: w.Amount, Fee: w.Fee, Route: w.Route, Status: w.Status, BusinessDate: w.BusinessDate}
}
