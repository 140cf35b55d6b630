package loans

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/users"
)

// Installment is one installment of a loan's schedule as of the business
// date: penalty accrued to that day, and overdue from the day after its due
// date even before a collection step has marked it. The API's schedule, the
// collection tasks and the console's loan page all read it here, so they
// cannot disagree.
type Installment struct {
	No            int
	DueDate       time.Time
	Principal     decimal.Decimal
	Interest      decimal.Decimal
	Penalty       decimal.Decimal // accrued as of the business date
	PaidPrincipal decimal.Decimal
	PaidInterest  decimal.Decimal
	PaidPenalty   decimal.Decimal
	Compensated   decimal.Decimal
	Status        lending.InstallmentStatus
	// DPD is the days past due of an open installment whose due date has
	// passed; 0 otherwise.
	DPD int
}

// Paid is what has been paid of the installment.
func (i Installment) Paid() decimal.Decimal {
	return i.PaidPrincipal.Add(i.PaidInterest).Add(i.PaidPenalty)
}

func (s *service) Schedule(ctx context.Context, caller users.User, id int64) ([]Installment, error) {
	loan, err := s.scheduleFor(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	today, err := s.today(ctx)
	if err != nil {
		return nil, err
	}
	return s.installments(ctx, loan.ID, today)
}

func (s *service) installments(ctx context.Context, loanID int64, today time.Time) ([]Installment, error) {
	rows, err := s.q.InstallmentList(ctx, loanID)
	if err != nil {
		return nil, err
	}
	out := make([]Installment, 0, len(rows))
	for _, i := range rows {
		out = append(out, installmentAsOf(i, today))
	}
	return out, nil
}

// installmentAsOf is an installment as it stands on today.
func installmentAsOf(i dbq.Installment, today time.Time) Installment {
	status := i.Status
	if status == lending.InstallmentPending && today.After(i.DueDate) {
		status = lending.InstallmentOverdue
	}
	out := Installment{
		No: int(i.No), DueDate: i.DueDate, Principal: i.Principal, Interest: i.Interest, Penalty: penaltyAsOf(i, today),
		PaidPrincipal: i.PaidPrincipal, PaidInterest: i.PaidInterest, PaidPenalty: i.PaidPenalty, Compensated: i.Compensated, Status: status,
	}
	if status.Open() && today.After(i.DueDate) {
		out.DPD = lending.Days(i.DueDate, today)
	}
	return out
}

// penaltyAsOf is an installment's penalty interest as of today (docs/rules.md
// "Penalty interest"). The stored penalty is brought up to date, stretch by
// stretch, at collection steps, payments and compensations; penalty accrues
// daily, so an open installment past its due date shows what had accrued
// through its last accrual plus the days since on what is still unpaid
// (money.PenaltyAsOf).
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

// Authorization is a loan's repayment authorization (还款授权).
type Authorization struct {
	LoanID    int64
	MaxAmount decimal.Decimal
	ExpiresOn time.Time
}
