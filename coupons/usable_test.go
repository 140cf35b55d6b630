package coupons

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
)

// TestUsable: every refusal is coupon_not_usable with its reason.
func TestUsable(t *testing.T) {
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := Coupon{ID: 7, UserID: 3, Kind: Cash, Amount: d("10.00"), MinBid: d("1000.00"), ExpiresOn: today, Status: Unused}
	require.NoError(t, Usable(c, 3, d("1000.00"), today), "the last day and the minimum exactly")
	for _, x := range []struct {
		c      Coupon
		user   int64
		amount string
		detail string
	}{
		{c, 4, "1000.00", ReasonNotYours},
		{func() Coupon { r := c; r.Status = Reserved; return r }(), 3, "1000.00", ReasonUsed},
		{func() Coupon { r := c; r.Status = Used; return r }(), 3, "1000.00", ReasonUsed},
		{func() Coupon { r := c; r.ExpiresOn = today.AddDate(0, 0, -1); return r }(), 3, "1000.00", ReasonExpired},
		{func() Coupon { r := c; r.Status = Expired; return r }(), 3, "1000.00", ReasonExpired},
		{c, 3, "999.00", ReasonMinimum},
	} {
		err := Usable(x.c, x.user, d(x.amount), today)
		require.Equal(t, errs.CouponNotUsable, errs.Code(err), "%v", err)
		require.Equal(t, "coupon_not_usable: "+x.detail, err.Error())
		require.True(t, IsReason(x.detail))
	}
}
