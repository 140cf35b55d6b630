// Package recovery holds the rules of money recovered after a write-off
// (docs/collection.md "Recoveries"): what a recovery may take, how it is
// shared among the holders, and how its share of each loss is reserved while
// the bank moves it, so that recoveries of one loan that meet never together
// pay more than the holders are owed.
package recovery

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/money"
)

// Share is one holder's part of a recovery.
type Share struct {
	HolderKey string // bid:<id>, guarantor:<user id> or reserve
	Holder    string // investor | guarantor | reserve
	UserID    int64  // 0: the risk reserve
	Amount    decimal.Decimal
	// CustodyAccountNo is the holder's custody account (nil for the reserve,
	// and for a user without one, whose share cannot be paid).
	CustodyAccountNo *string
}

// Reserve shares rec among its loan's holders and reserves each share, in
// the transaction q runs in (the one that records rec). The loan's losses
// stay locked until that transaction ends, so recoveries of one loan are
// admitted one at a time, each seeing what the others reserved. A recovery
// is shared pro rata to what each holder has neither recovered nor reserved,
// each cent accounted (money.Split: the leftover cents to the largest
// remainders, ties to the earlier holder: investors by bid, then the
// guarantor, then the reserve) — the shares it would have had had the
// recoveries in flight already been carried out.
//
// Refusal: validation_failed (field amount) when rec.Amount is more than the
// holders have still to recover, less what recoveries in flight reserved.
// Nothing is reserved then, and the caller's transaction rolls back.
func Reserve(ctx context.Context, q *dbq.Queries, rec dbq.Recovery) ([]Share, error) {
	losses, err := q.WriteOffLossLock(ctx, rec.LoanID)
	if err != nil {
		return nil, err
	}
	weights := make([]decimal.Decimal, len(losses))
	left := decimal.Zero
	for i, l := range losses {
		weights[i] = l.Amount.Sub(l.Recovered).Sub(l.Reserved)
		left = left.Add(weights[i])
	}
	if rec.Amount.GreaterThan(left) {
		return nil, errs.Invalid("amount", "more than the %s the holders have still to recover", left.StringFixed(2))
	}
	var shares []Share
	for i, amount := range money.Split(rec.Amount, weights) {
		if amount.Sign() == 0 {
			continue
		}
		l := losses[i]
		s := Share{HolderKey: l.HolderKey, Holder: l.Holder, Amount: amount}
		if l.UserID != nil {
			s.UserID = *l.UserID
		}
		if err := q.WriteOffLossReserve(ctx, dbq.WriteOffLossReserveParams{LoanID: rec.LoanID, HolderKey: l.HolderKey, Amount: amount}); err != nil {
			return nil, err
		}
		if err := q.RecoveryShareInsert(ctx, dbq.RecoveryShareInsertParams{RecoveryID: rec.ID, HolderKey: l.HolderKey, UserID: l.UserID, Amount: amount}); err != nil {
			return nil, err
		}
		shares = append(shares, s)
	}
	return shares, nil
}

// Shares is what recovery id reserved, in the order of its split.
func Shares(ctx context.Context, q *dbq.Queries, id int64) ([]Share, error) {
	rows, err := q.RecoveryShareList(ctx, id)
	if err != nil {
		return nil, err
	}
	shares := make([]Share, len(rows))
	for i, r := range rows {
		shares[i] = Share{HolderKey: r.HolderKey, Holder: r.Holder, Amount: r.Amount, CustodyAccountNo: r.CustodyAccountNo}
		if r.UserID != nil {
			shares[i].UserID = *r.UserID
		}
	}
	return shares, nil
}

// Book records a recovery the bank carried out: each share it reserved is
// now recovered. Call it in the transaction that books the bank's movement.
func Book(ctx context.Context, q *dbq.Queries, loanID int64, shares []Share) error {
	for _, s := range shares {
		if err := q.WriteOffLossRecover(ctx, dbq.WriteOffLossRecoverParams{LoanID: loanID, HolderKey: s.HolderKey, Amount: s.Amount}); err != nil {
			return fmt.Errorf("recovery: book %s: %w", s.HolderKey, err)
		}
	}
	return nil
}

// Release gives back what a recovery that moved nothing reserved (refused by
// the bank, or declined before it was sent); a second call changes nothing.
func Release(ctx context.Context, q *dbq.Queries, id int64) error {
	return q.RecoveryShareRelease(ctx, id)
}
