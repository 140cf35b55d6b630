package coupons

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/errs"
)

// Why a coupon may not go with a bid: the detail of coupon_not_usable, one
// fixed text each, so the API can pass it on (docs/api.md "Errors").
const (
	ReasonNotYours = "the coupon is not yours"
	ReasonUsed     = "the coupon is used already: it goes with another bid"
	ReasonExpired  = "the coupon has expired"
	ReasonMinimum  = "the bid is below the coupon's minimum bid"
	ReasonAnother  = "the bid carries another coupon already: one coupon a bid"
)

// Reasons is every reason above.
var Reasons = []string{ReasonNotYours, ReasonUsed, ReasonExpired, ReasonMinimum, ReasonAnother}

// IsReason reports whether detail is one of Reasons.
func IsReason(detail string) bool { return slices.Contains(Reasons, detail) }

// Usable says whether the investor may attach c to a bid of amount on today
// (docs/rules.md "Coupons"): their own, unused, not past its expiry date (the
// last day it may be attached), and the bid at least its minimum. Every
// refusal is coupon_not_usable with its reason as the detail; the bid is
// then refused whole, before anything is frozen.
func Usable(c Coupon, investorID int64, amount decimal.Decimal, today time.Time) error {
	switch {
	case c.UserID != investorID:
		return NotUsable(ReasonNotYours)
	case c.Status == Reserved || c.Status == Used:
		return NotUsable(ReasonUsed)
	case c.Status == Expired || c.ExpiresOn.Before(today):
		return NotUsable(ReasonExpired)
	case amount.LessThan(c.MinBid):
		return NotUsable(ReasonMinimum)
	}
	return nil
}

// NotUsable is the refusal for reason.
func NotUsable(reason string) error { return errs.New(errs.CouponNotUsable, "%s", reason) }
