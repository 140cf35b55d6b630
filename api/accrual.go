package api

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/money"
)

// penaltyAsOf is an installment's penalty interest as of today (docs/rules.md
// "Penalty interest"). The stored penalty is brought up to date, stretch by
// stretch, at collection steps, payments and compensations; penalty accrues
// daily, so an open installment past its due date shows what had accrued
// through its last accrual plus the days since on what is still unpaid.
// The schedule (GET /v1/loans/{id}/schedule) and the collection tasks both
// read it here, so they cannot disagree.
func penaltyAsOf(i dbq.Installment, today time.Time) decimal.Decimal {
	if !i.Status.Open() || !today.After(i.DueDate) {
		return i.Penalty
	}
	from := i.DueDate
	if i.PenaltyThrough != nil && i.PenaltyThrough.After(from) {
		from = *i.PenaltyThrough
	}
	return money.PenaltyAsOf(i.Penalty, unpaidPrincipalInterest(i), from, today)
}

// unpaidPrincipalInterest is what is left of an installment's principal and interest.
func unpaidPrincipalInterest(i dbq.Installment) decimal.Decimal {
	return i.Principal.Sub(i.PaidPrincipal).Add(i.Interest).Sub(i.PaidInterest)
}
