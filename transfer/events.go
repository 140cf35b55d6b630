package transfer

import (
	"context"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/events"
)

// A listing's business events (docs/events.md "Event types"): transfer.listed,
// transfer.sold, transfer.lapsed, transfer.cancelled, each written in the
// transaction of its step, the loan and the seller named. The sale's money is
// its ledger.transfer event beside it.

// eventData is a listing as its events carry it: amounts as 2-decimal
// strings, set once sold.
type eventData struct {
	TransferID     int64  `json:"transfer_id"`
	HoldingID      int64  `json:"holding_id"`
	BidID          int64  `json:"bid_id"`
	SellerID       int64  `json:"seller_user_id"`
	DiscountRate   string `json:"discount_rate"`
	ExpiresOn      string `json:"expires_on"`
	Status         string `json:"status"`
	BuyerID        int64  `json:"buyer_user_id,omitempty"`
	BuyerHoldingID int64  `json:"buyer_holding_id,omitempty"`
	Principal      string `json:"principal,omitempty"`
	Accrued        string `json:"accrued_interest,omitempty"`
	Price          string `json:"price,omitempty"`
	Fee            string `json:"fee,omitempty"`
	Note           string `json:"note,omitempty"`
}

// event writes the event of listing t's move to status on day.
func event(ctx context.Context, q *dbq.Queries, t dbq.Transfer, status Status, day time.Time, sale *Sale, buyerHolding int64) error {
	d := eventData{TransferID: t.ID, HoldingID: t.HoldingID, BidID: t.BidID, SellerID: t.SellerID,
		DiscountRate: t.DiscountRate.StringFixed(4), ExpiresOn: t.ExpiresOn.Format(time.DateOnly), Status: string(status), Note: t.Note}
	if sale != nil {
		d.BuyerID, d.BuyerHoldingID = sale.BuyerID, buyerHolding
		d.Principal, d.Accrued = sale.Quote.Principal.StringFixed(2), sale.Quote.Accrued.StringFixed(2)
		d.Price, d.Fee = sale.Quote.Price.StringFixed(2), sale.Quote.Fee.StringFixed(2)
	}
	return events.Write(ctx, q, events.New{Type: events.Type(events.FamilyTransfer, string(status)), BusinessDate: day,
		LoanID: t.LoanID, UserID: t.SellerID, Data: d})
}
