package loans

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// The principal cap (docs/rules.md "Limits"): a borrower's outstanding
// principal on the platform, the loan applied for included, may not exceed
// lending.PrincipalCap (the 2016 interim measures' 200,000.00 for an
// individual). Exactly the cap passes.

// CheckCap refuses an application of amount by a borrower who owes
// outstanding already: limit_exceeded, with the figures the borrower needs
// (outstanding, and cap).
func CheckCap(outstanding, amount decimal.Decimal) error {
	if outstanding.Add(amount).GreaterThan(lending.PrincipalCap) {
		return errs.New(errs.LimitExceeded, "outstanding principal would be %s, over the %s cap",
			outstanding.Add(amount).StringFixed(2), lending.PrincipalCap.StringFixed(2)).
			With("outstanding", outstanding).With("cap", lending.PrincipalCap)
	}
	return nil
}

// withinCap applies the cap to an application of amount by borrowerID, in
// the transaction q runs in, which holds the borrower's lock: two
// applications at once cannot both pass it.
func withinCap(ctx context.Context, q *dbq.Queries, borrowerID int64, amount decimal.Decimal) error {
	owed, err := q.LoanOutstandingPrincipalByBorrower(ctx, dbq.LoanOutstandingPrincipalByBorrowerParams{BorrowerID: borrowerID, ID: 0})
	if err != nil {
		return err
	}
	return CheckCap(owed, amount)
}
