package activities

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/screening"
)

// Screen takes a submitted application through screening (docs/lifecycle.md):
// rejected, or due_diligence for ops to decide (over 50,000.00 or grade D/E),
// or approved and — nothing else being needed — listed for ListingDays at
// once. Status changes, history rows and the listing's expiry as the loan's
// next dated step are written in one transaction.
func (a *Activities) Screen(ctx context.Context, in ScreenInput) (ScreenResult, error) {
	v, err := screening.Screen(ctx, a.q, in.LoanID, in.Today)
	if err != nil {
		return ScreenResult{}, classify(err)
	}
	res := ScreenResult{Reasons: v.Reasons, Score: v.Score, Grade: v.Grade, Rate: v.Rate}
	err = a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		r := newRows(q, in.LoanID, in.Seq, in.Today)
		if err := r.move(ctx, []lending.Status{lending.StatusSubmitted}, lending.StatusScreening, "automated screening"); err != nil {
			return err
		}
		switch {
		case !v.Passed:
			res.Status = lending.StatusRejected
			if err := r.move(ctx, []lending.Status{lending.StatusScreening}, lending.StatusRejected, "%s", strings.Join(v.Reasons, "; ")); err != nil {
				return err
			}
			return publish(ctx, q, in.LoanID, in.Seq, nil)
		case v.NeedsDueDiligence:
			res.Status = lending.StatusDueDiligence
			if err := r.move(ctx, []lending.Status{lending.StatusScreening}, lending.StatusDueDiligence,
				"manual due diligence: score %d, grade %s", v.Score, v.Grade); err != nil {
				return err
			}
			return publish(ctx, q, in.LoanID, in.Seq, nil) // nothing dated: ops decide
		}
		if err := r.move(ctx, []lending.Status{lending.StatusScreening}, lending.StatusApproved,
			"auto-approved: score %d, grade %s", v.Score, v.Grade); err != nil {
			return err
		}
		if loan, err := q.LoanGet(ctx, in.LoanID); err != nil {
			return err
		} else if loan.GuarantorID != nil {
			// The named guarantor accepts before the loan is listed (docs/rules.md "guarantor").
			res.Status = lending.StatusAwaitingGuarantor
			if err := r.move(ctx, []lending.Status{lending.StatusApproved}, lending.StatusAwaitingGuarantor, "awaiting the guarantor's acceptance"); err != nil {
				return err
			}
			return publish(ctx, q, in.LoanID, in.Seq, nil)
		}
		expires := in.Today.AddDate(0, 0, in.ListingDays)
		newbie, err := list(ctx, q, r, ListInput{LoanID: in.LoanID, Seq: in.Seq, Grade: v.Grade, Rate: v.Rate, Today: in.Today, ExpiresOn: expires})
		res.Status, res.ExpiresOn, res.Newbie = lending.StatusListed, &expires, newbie
		return err
	})
	return res, classify(err)
}
