package transfer

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// OfferStep is a holder's offer as the loan's workflow carries it out, in
// its turn with the loan's other steps.
type OfferStep struct {
	LoanID    int64
	Seq       int // the workflow's step: a retried step finds the listing it made
	HoldingID int64
	SellerID  int64
	Discount  decimal.Decimal
	Day       time.Time
}

// List lists a holding's claim for sale, in the step's transaction, judged
// by the rules on the rows as they are (Offer.Check) under the loan's lock.
// It answers the listing, or a refusal (transfer_not_allowed with its
// reason, not_found, validation_failed) and nothing written.
func List(ctx context.Context, q *dbq.Queries, s OfferStep) (dbq.Transfer, *errs.Error, error) {
	loan, err := q.LoanGetForUpdate(ctx, s.LoanID)
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	if t, err := q.TransferGetBySeq(ctx, dbq.TransferGetBySeqParams{LoanID: s.LoanID, OfferSeq: int32(s.Seq)}); err == nil {
		return t, nil, nil // the step ran before and listed it
	} else if !errors.Is(err, db.ErrNotFound) {
		return dbq.Transfer{}, nil, err
	}
	h, err := q.HoldingGetForUpdate(ctx, s.HoldingID)
	if errors.Is(err, db.ErrNotFound) || (err == nil && (h.LoanID != s.LoanID || h.HolderID != s.SellerID)) {
		return dbq.Transfer{}, errs.New(errs.NotFound, "no such holding"), nil
	}
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	claim, err := claimOf(ctx, q, h.BidID, loan)
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	listed, err := q.TransferOpenForHolding(ctx, h.ID)
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	o := Offer{LoanStatus: loan.Status, Claim: claim, Held: h.Status == claims.Held, Listed: listed,
		Discount: s.Discount, Day: s.Day}
	if err := o.Check(); err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return dbq.Transfer{}, e, nil
		}
		return dbq.Transfer{}, nil, err
	}
	if err := q.TransferInsert(ctx, dbq.TransferInsertParams{LoanID: s.LoanID, BidID: h.BidID, HoldingID: h.ID, SellerID: s.SellerID,
		DiscountRate: s.Discount, ListedOn: s.Day, ExpiresOn: LapseOn(claim.Due), OfferSeq: int32(s.Seq)}); err != nil {
		return dbq.Transfer{}, nil, err
	}
	t, err := q.TransferGetBySeq(ctx, dbq.TransferGetBySeqParams{LoanID: s.LoanID, OfferSeq: int32(s.Seq)})
	if err != nil {
		return dbq.Transfer{}, nil, err
	}
	return t, nil, event(ctx, q, t, Listed, s.Day, nil, 0)
}

// claimOf reads the claim of bid on loan.
func claimOf(ctx context.Context, q *dbq.Queries, bidID int64, loan dbq.Loan) (Claim, error) {
	claims, err := claimsOf(ctx, q, []int64{bidID}, map[int64]time.Time{bidID: disbursedOn(loan)})
	return claims[bidID], err
}

// claimsOf reads the claims of bids, each disbursed on its date.
func claimsOf(ctx context.Context, q *dbq.Queries, bidIDs []int64, disbursed map[int64]time.Time) (map[int64]Claim, error) {
	rows, err := q.TransferClaimShares(ctx, bidIDs)
	if err != nil {
		return nil, err
	}
	shares := map[int64][]Share{}
	for _, r := range rows {
		shares[r.BidID] = append(shares[r.BidID], Share{No: r.No, DueDate: r.DueDate, Status: r.Status, Principal: r.Principal,
			Interest: r.Interest, RecvPrincipal: r.ReceivedPrincipal, RecvInterest: r.ReceivedInterest, RecvPenalty: r.ReceivedPenalty,
			Compensated: r.Compensated})
	}
	out := make(map[int64]Claim, len(bidIDs))
	for _, id := range bidIDs {
		out[id] = ClaimOf(shares[id], disbursed[id])
	}
	return out, nil
}

func disbursedOn(l dbq.Loan) time.Time {
	if l.DisbursedOn == nil {
		return time.Time{}
	}
	return *l.DisbursedOn
}
