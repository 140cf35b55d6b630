package loans

import (
	"context"
	"errors"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/users"
)

// Who may see a loan (docs/api.md "Conventions"): its borrower, the
// guarantor it names, and ops; its schedule also an investor holding a bid
// on it. Anyone else is answered not_found, as for a loan that does not
// exist, so loan numbers reveal nothing.

var errNoLoan = errs.New(errs.NotFound, "no such loan")

func (s *service) Get(ctx context.Context, caller users.User, id int64) (Loan, error) {
	l, err := s.loanFor(ctx, caller, id)
	return loanFrom(l), err
}

// loanFor is loan id if caller may see it.
func (s *service) loanFor(ctx context.Context, caller users.User, id int64) (dbq.Loan, error) {
	loan, err := s.q.LoanGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return loan, errNoLoan
	}
	if err != nil {
		return loan, err
	}
	guarantor := loan.GuarantorID != nil && *loan.GuarantorID == caller.ID
	if caller.Role != lending.RoleOps && loan.BorrowerID != caller.ID && !guarantor {
		return loan, errNoLoan
	}
	return loan, nil
}

// scheduleFor is loan id if caller may see its schedule: its borrower, ops,
// or an investor holding a frozen or disbursed bid on it.
func (s *service) scheduleFor(ctx context.Context, caller users.User, id int64) (dbq.Loan, error) {
	loan, err := s.q.LoanGet(ctx, id)
	if err == nil && caller.Role != lending.RoleOps && loan.BorrowerID != caller.ID {
		var holds bool
		if holds, err = s.q.BidExistsForInvestor(ctx, dbq.BidExistsForInvestorParams{LoanID: id, InvestorID: caller.ID}); err == nil && !holds {
			err = db.ErrNotFound
		}
	}
	if errors.Is(err, db.ErrNotFound) {
		return loan, errNoLoan
	}
	return loan, err
}
