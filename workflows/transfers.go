package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/transfer"
)

// Debt transfer on the loan's claims (docs/transfer.md). An offer, a
// purchase and a cancel are requests the main loop takes like a repayment
// by hand, so a sale and a repayment of the loan never interleave: a
// purchase taken before a repayment has the buyer paid the whole
// installment; one taken after it finds the listing lapsed. Buyers race in
// PostgreSQL (transfer.Service): only the one who won a listing sends its
// purchase here, so a hot listing costs the loan one update. While a listing
// is open the loan has a dated step of its own, the blackout's first day
// before the next due date (transfer.LapseOn), on which every open listing
// lapses; the clock stops there because the loan publishes it.

// TransferRequest is an investor's request on a claim of the loan
// (transfer.Request: an offer, a purchase, a cancel), dated.
type TransferRequest transfer.Request

func (t TransferRequest) today() time.Time { return t.Today }

// TransferReply answers a transfer request: listed, sold (the buyer's new
// holding and the price) or cancelled.
type TransferReply = transfer.Reply

// OpenTransfer is a listing of one of the loan's claims still open.
type OpenTransfer struct {
	ID        int64
	SellerID  int64
	HoldingID int64
}

var transferKinds = []string{UpdateOfferTransfer, UpdateBuyTransfer, UpdateCancelTransfer}

// The checks a transfer request must pass (request.allowed), against the
// loan as it stands: repaying (nothing overdue), before the blackout of the
// next due date; a purchase or a cancel, of a listing still open.

func (w *loan) offerable() error { return w.transferOpen(errs.TransferNotAllowed) }

func (w *loan) buyable(id int64) func() error {
	return func() error {
		if !w.hasListing(id) {
			return refuse(errs.TransferNotOpen, "the listing is not open")
		}
		return w.transferOpen(errs.TransferNotOpen)
	}
}

func (w *loan) cancellableTransfer(t TransferRequest) func() error {
	return func() error {
		i := slices.IndexFunc(w.S.Transfers, func(o OpenTransfer) bool { return o.ID == t.TransferID })
		switch {
		case i < 0:
			return refuse(errs.TransferNotOpen, "the listing is not open")
		case w.S.Transfers[i].SellerID != t.UserID:
			return refuse(errs.NotFound, "no such transfer")
		case !transfer.OpenOn(w.nextDue(), w.today()):
			return refuse(errs.TransferNotOpen, "the listing lapsed at the blackout before the next due date")
		}
		return nil
	}
}

// transferOpen refuses with code unless the loan is repaying before the
// blackout of its next due date.
func (w *loan) transferOpen(code string) error {
	switch {
	case w.S.Status == lending.StatusOverdue:
		return refuse(code, transfer.ReasonOverdue)
	case w.S.Status != lending.StatusRepaying || w.S.Collection == nil || w.S.Collection.Closed():
		return refuse(code, transfer.ReasonNotRepaying)
	case !transfer.OpenOn(w.nextDue(), w.today()):
		return refuse(code, transfer.ReasonBlackout)
	}
	return nil
}

func (w *loan) hasListing(id int64) bool {
	return slices.ContainsFunc(w.S.Transfers, func(o OpenTransfer) bool { return o.ID == id })
}

// nextDue is the oldest open installment's due date.
func (w *loan) nextDue() time.Time {
	c := w.S.Collection
	if c == nil || c.Closed() {
		return time.Time{}
	}
	return c.due(c.Next)
}

// lapseOn is the loan's next transfer step: the blackout's first day, while
// a listing is open (nil: none).
func (w *loan) lapseOn(open []OpenTransfer) *time.Time {
	if len(open) == 0 || w.S.Collection == nil || w.S.Collection.Closed() {
		return nil
	}
	d := transfer.LapseOn(w.nextDue())
	return &d
}

// nextRepayDate is the loan's next dated step in repayment with open
// listings: the collection schedule's next stop, or the listings' lapse if
// it comes first.
func (w *loan) nextRepayDate(open []OpenTransfer) *time.Time {
	next := w.S.Collection.NextDate()
	if l := w.lapseOn(open); l != nil && (next == nil || !l.After(*next)) {
		return l
	}
	return next
}

// transferStep carries out a transfer request and answers it: done, or its
// refusal (which moved nothing).
func (w *loan) transferStep(ctx workflow.Context, r *request) error {
	t := r.transfer
	var res activities.TransferResult
	var err error
	switch r.kind {
	case UpdateOfferTransfer:
		listing := OpenTransfer{SellerID: t.UserID, HoldingID: t.HoldingID}
		in := activities.OfferTransferInput{LoanID: w.S.LoanID, Seq: w.step(), HoldingID: t.HoldingID, SellerID: t.UserID,
			Discount: t.Discount, Today: w.today(), Next: w.nextRepayDate(append(slices.Clone(w.S.Transfers), listing))}
		summary := w.sum("transfer: investor %d lists holding %d at a %s discount", t.UserID, t.HoldingID, pct(t.Discount))
		if err = w.exec(ctx, dbCallOptions, ActivityOfferTransfer, summary, in, &res); err == nil && res.Code == "" {
			listing.ID = res.TransferID
			if !w.hasListing(listing.ID) {
				w.S.Transfers = append(w.S.Transfers, listing)
			}
			r.reply = TransferReply{TransferID: res.TransferID, Status: string(transfer.Listed)}
		}
	case UpdateBuyTransfer:
		rest := w.without(t.TransferID)
		in := activities.BuyTransferInput{LoanID: w.S.LoanID, Seq: w.step(), TransferID: t.TransferID, Attempt: t.Attempt,
			BuyerID: t.UserID, Price: t.Price, Today: t.Today, Next: w.nextRepayDate(rest)}
		summary := w.sum("transfer %d: investor %d sells a claim to investor %d for %s",
			t.TransferID, w.sellerOf(t.TransferID), t.UserID, yuan(t.Price))
		if err = w.exec(ctx, bankCallOptions, ActivityBuyTransfer, summary, in, &res); err == nil && res.Code == "" {
			w.S.Transfers = rest
			r.reply = TransferReply{TransferID: t.TransferID, Status: string(transfer.Sold), HoldingID: res.HoldingID,
				Price: res.Price}
		}
	case UpdateCancelTransfer:
		rest := w.without(t.TransferID)
		in := activities.CancelTransferInput{LoanID: w.S.LoanID, Seq: w.step(), TransferID: t.TransferID, SellerID: t.UserID,
			Today: w.today(), Next: w.nextRepayDate(rest)}
		summary := w.sum("transfer %d: investor %d cancels the listing", t.TransferID, t.UserID)
		if err = w.exec(ctx, dbCallOptions, ActivityCancelTransfer, summary, in, &res); err == nil && res.Code == "" {
			w.S.Transfers = rest
			r.reply = TransferReply{TransferID: t.TransferID, Status: string(transfer.Cancelled)}
		}
	}
	if err == nil && res.Code != "" {
		err = refuse(res.Code, res.Detail)
	}
	return err
}

// lapseTransfers closes every open listing of the loan, for reason.
func (w *loan) lapseTransfers(ctx workflow.Context, reason string) error {
	in := activities.LapseTransfersInput{LoanID: w.S.LoanID, Seq: w.step(), Reason: reason, Today: w.today()}
	if w.S.Collection != nil && !w.S.Status.Terminal() {
		in.Next = w.nextRepayDate(nil)
	}
	summary := w.sum("transfer listings %v lapse: %s", w.transferIDs(), reason)
	if err := w.exec(ctx, dbCallOptions, ActivityLapseTransfers, summary, in, nil); err != nil {
		return err
	}
	w.S.Transfers = nil
	return nil
}

func (w *loan) without(id int64) []OpenTransfer {
	return slices.DeleteFunc(slices.Clone(w.S.Transfers), func(o OpenTransfer) bool { return o.ID == id })
}

func (w *loan) sellerOf(id int64) int64 {
	for _, o := range w.S.Transfers {
		if o.ID == id {
			return o.SellerID
		}
	}
	return 0
}

func (w *loan) transferIDs() []int64 {
	ids := make([]int64, len(w.S.Transfers))
	for i, o := range w.S.Transfers {
		ids[i] = o.ID
	}
	return ids
}
