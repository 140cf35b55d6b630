package coupons

import (
	"context"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/events"
)

// Event is a coupon event's name, typed so that "expired" is not taken for a
// loan's status.
type Event string

// A coupon's business events (docs/events.md "Event types"), each written in
// the transaction of its change: coupon.granted, coupon.reserved (with a
// bid), coupon.released (unused again: the listing closed, the freeze was
// refused), coupon.used (its loan disbursed), coupon.expired, and
// coupon.payment_failed (the bank refused a bonus payment: an ops task). The
// money each payment moves is its ledger.bonus event.
const (
	EventGranted       Event = "granted"
	EventReserved      Event = "reserved"
	EventReleased      Event = "released"
	EventUsed          Event = "used"
	EventExpired       Event = "expired"
	EventPaymentFailed Event = "payment_failed"
)

// eventData is a coupon as its events carry it: amounts as 2-decimal strings.
type eventData struct {
	CouponID  int64  `json:"coupon_id"`
	Kind      string `json:"kind"`
	Amount    string `json:"amount,omitempty"`
	ExtraRate string `json:"extra_rate,omitempty"`
	Months    int    `json:"months,omitempty"`
	MinBid    string `json:"min_bid"`
	ExpiresOn string `json:"expires_on"`
	Status    string `json:"status"`
	BidID     int64  `json:"bid_id,omitempty"`
	// A refused payment's.
	PaymentID     int64  `json:"payment_id,omitempty"`
	Installment   *int   `json:"installment,omitempty"`
	PaymentAmount string `json:"payment_amount,omitempty"`
	RequestNo     string `json:"request_no,omitempty"`
	Code          string `json:"code,omitempty"`
}

func dataOf(c Coupon) eventData {
	d := eventData{CouponID: c.ID, Kind: string(c.Kind), MinBid: c.MinBid.StringFixed(2),
		ExpiresOn: c.ExpiresOn.Format(time.DateOnly), Status: string(c.Status)}
	if c.Kind == Cash {
		d.Amount = c.Amount.StringFixed(2)
	} else {
		d.ExtraRate, d.Months = c.ExtraRate.String(), c.Months
	}
	if c.BidID != nil {
		d.BidID = *c.BidID
	}
	return d
}

// event writes coupon row c's event name on day, on loanID (0: none).
func event(ctx context.Context, q *dbq.Queries, c dbq.Coupon, name Event, day time.Time, loanID int64) error {
	return write(ctx, q, name, day, loanID, c.UserID, dataOf(From(c)))
}

func write(ctx context.Context, q *dbq.Queries, name Event, day time.Time, loanID, userID int64, d eventData) error {
	return events.Write(ctx, q, events.New{Type: events.Type(events.FamilyCoupon, string(name)), BusinessDate: day,
		LoanID: loanID, UserID: userID, Data: d})
}
