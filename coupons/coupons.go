// Package coupons is the platform's incentives paid from the custody bank's
// bonus account (红包账户, docs/coupons.md, docs/rules.md "Coupons"): cash
// coupons (红包) paid at disbursement and interest coupons (加息券) paid with
// each installment's interest. Its rules, each in a file named after it: the
// bonus of an installment (bonus.go), whether a coupon may go with a bid
// (usable.go), the bonus account's headroom for a grant (headroom.go), and a
// coupon's life with its loan's (lifecycle.go); the bank payments are pay.go,
// and the API's calls service.go.
package coupons

import (
	"time"

	"github.com/shopspring/decimal"
)

// Kind of coupon.
type Kind string

const (
	Cash     Kind = "cash"     // 红包 / 抵扣券: a face amount
	Interest Kind = "interest" // 加息券: an extra annual rate for at most some months
)

// Status of a coupon.
type Status string

const (
	Unused   Status = "unused"
	Reserved Status = "reserved" // attached to a bid whose loan has not disbursed
	Used     Status = "used"     // its loan disbursed: it pays, or has paid
	Expired  Status = "expired"  // the business clock passed its expiry unused
)

// Payment statuses (coupon_payments.status).
const (
	PaymentPlanned = "planned" // expected, not yet earned
	PaymentDue     = "due"     // earned; its bank request number is fixed
	PaymentPaid    = "paid"
	PaymentFailed  = "failed" // the bank refused it: an ops task
	PaymentLapsed  = "lapsed" // paid off early, written off, or the claim sold
)

// Coupon is one coupon as the rules see it.
type Coupon struct {
	ID        int64
	UserID    int64
	Kind      Kind
	Amount    decimal.Decimal // cash
	ExtraRate decimal.Decimal // interest
	Months    int             // interest
	MinBid    decimal.Decimal
	ExpiresOn time.Time
	Most      decimal.Decimal
	Note      string
	Status    Status
	BidID     *int64
	LoanID    *int64
	Paid      decimal.Decimal
	GrantedOn time.Time
}
