package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
)

// listedBy applies for a loan repaid by method and waits until it is listed.
func (s *stack) listedBy(ops string, borrower person, amount string, term int, method string) float64 {
	s.t.Helper()
	r := s.call("POST", "/v1/loans", borrower.token, obj{"amount": amount, "term_months": term,
		"repayment_method": method, "purpose": "working capital", "monthly_income": "80000.00"}, 201)
	id := r["loan_id"].(float64)
	s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
	return id
}

// grant gives an investor a coupon and answers its id.
func (s *stack) grant(ops string, p person, body obj) float64 {
	s.t.Helper()
	body["user_id"] = p.id
	return s.call("POST", "/v1/ops/coupons", ops, body, 201)["coupon_id"].(float64)
}

// TestCouponsPaidPerMethod pays coupons through whole loans, by HTTP and the
// sandbox clock alone, for every repayment method (docs/coupons.md "The
// bonus"), and prints each bonus payment. Four loans of 12,000.00 over 3
// months at grade A (6.5 %), disbursed 2 March; each bidder holds an interest
// coupon of +3 % for 3 months, so installment k pays round(B × 0.03 / 12), B
// the claim's principal before k:
//
//	equal installments: B 12,000.00; 8,021.59; 4,021.63 → 30.00, 20.05, 10.05
//	equal principal:    B 12,000.00; 8,000.00; 4,000.00 → 30.00, 20.00, 10.00
//	interest only:      B 12,000.00 throughout         → 30.00, 30.00, 30.00
//	bullet:             one installment of 3 months on a claim of 11,000.00:
//	                    11,000.00 × 0.03 × 3 / 12 = 82.50; the other bid,
//	                    1,000.00, carries a cash coupon of 50.00, paid at
//	                    disbursement.
//
// A fifth listing, cancelled, gives its bid's cash coupon back unused, and
// the business clock expires it after its last day.
func TestCouponsPaidPerMethod(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	interest := obj{"kind": "interest", "extra_rate": "0.03", "months": 3, "min_bid": "1000.00", "expires_on": "2026-03-31"}

	i1, i2, i3 := s.investor("红包一", "12000.00"), s.investor("红包二", "12000.00"), s.investor("红包三", "12000.00")
	i4, i5, i6 := s.investor("红包四", "11000.00"), s.investor("红包五", "1000.00"), s.investor("红包六", "1000.00")
	require.Equal(t, "bonus_budget_exceeded", s.call("POST", "/v1/ops/coupons", ops,
		obj{"user_id": i1.id, "kind": "interest", "extra_rate": "0.03", "months": 3, "expires_on": "2026-03-31"}, 409)["code"])
	s.call("POST", "/v1/ops/bonus-account/top-ups", ops, obj{"amount": "6150.00"}, 201)
	// Each interest coupon's most is round(200,000.00 × 0.03 × 3 / 12) = 1,500.00.
	c1, c2, c3, c4 := s.grant(ops, i1, copyObj(interest)), s.grant(ops, i2, copyObj(interest)),
		s.grant(ops, i3, copyObj(interest)), s.grant(ops, i4, copyObj(interest))
	c5 := s.grant(ops, i5, obj{"kind": "cash", "amount": "50.00", "min_bid": "500.00", "expires_on": "2026-03-31"})
	c6 := s.grant(ops, i6, obj{"kind": "cash", "amount": "50.00", "expires_on": "2026-03-31"})
	acct := s.call("GET", "/v1/ops/bonus-account", ops, nil, 200)
	require.Equal(t, []any{"6150.00", "6100.00", "50.00"}, []any{acct["available"], acct["liabilities"], acct["headroom"]})

	b1, b2 := s.signUp("borrower", "券借一"), s.signUp("borrower", "券借二")
	loans := map[string]float64{
		"equal_installment": s.listedBy(ops, b1, "12000.00", 3, "equal_installment"),
		"equal_principal":   s.listedBy(ops, b1, "12000.00", 3, "equal_principal"),
		"interest_only":     s.listedBy(ops, b2, "12000.00", 3, "interest_only"),
		"bullet":            s.listedBy(ops, b2, "12000.00", 3, "bullet"),
	}
	bid := func(p person, id float64, amount string, coupon float64, want int) obj {
		return s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), p.token, obj{"amount": amount, "coupon_id": coupon}, want)
	}
	// Refused whole, nothing frozen: another's coupon; a bid below the coupon's minimum.
	refused := bid(i5, loans["bullet"], "1000.00", c4, 409)
	require.Equal(t, []any{"coupon_not_usable", "the coupon is not yours"}, []any{refused["code"], refused["detail"]})
	require.Equal(t, "the bid is below the coupon's minimum bid", bid(i5, loans["bullet"], "400.00", c5, 409)["detail"])
	require.Equal(t, "0.00", s.call("GET", "/v1/me/account", i5.token, nil, 200)["frozen"])
	bid(i1, loans["equal_installment"], "12000.00", c1, 201)
	bid(i2, loans["equal_principal"], "12000.00", c2, 201)
	bid(i3, loans["interest_only"], "12000.00", c3, 201)
	bid(i4, loans["bullet"], "11000.00", c4, 201)
	bid(i5, loans["bullet"], "1000.00", c5, 201)
	// A listing cancelled gives its bid's coupon back, unused.
	cancelled := s.listedBy(ops, b1, "12000.00", 3, "equal_installment")
	bid(i6, cancelled, "1000.00", c6, 201)
	require.Equal(t, "reserved", s.call("GET", "/v1/me/coupons", i6.token, nil, 200)["items"].([]any)[0].(obj)["status"])
	require.Equal(t, "cancelled", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/cancel", cancelled), b1.token, nil, 200)["status"])
	s.waitFor("the coupon back", func() bool {
		return s.call("GET", "/v1/me/coupons", i6.token, nil, 200)["items"].([]any)[0].(obj)["status"] == "unused"
	})
	for _, id := range loans {
		s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
		s.approve(ops, id)
	}
	for _, b := range []person{b1, b2} {
		s.call("POST", "/v1/me/recharges", b.token, obj{"amount": "2000.00"}, 201)
	}
	for _, id := range loans {
		owner := b1
		if id == loans["interest_only"] || id == loans["bullet"] {
			owner = b2
		}
		s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), owner.token,
			obj{"max_amount": "13000.00", "expires_on": "2026-12-31"}, 201)
	}
	require.Equal(t, "50.00", s.bankBalance(i5.acct), "the cash coupon, paid at disbursement")
	s.advance(ops, "2026-06-02")

	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	got := map[string][]string{}
	for method, id := range loans {
		rows, err := pool.Query(context.Background(), `SELECT installment_no, coupon_id, amount::text, status, request_no
			FROM coupon_payments WHERE loan_id = $1 ORDER BY installment_no, coupon_id`, int64(id))
		require.NoError(t, err)
		for rows.Next() {
			var inst, coupon int64
			var amount, status, reqNo string
			require.NoError(t, rows.Scan(&inst, &coupon, &amount, &status, &reqNo))
			t.Logf("bonus payment: %-17s loan %.0f installment %d coupon %d: %s %s (%s)", method, id, inst, coupon, amount, status, reqNo)
			require.Equal(t, "paid", status)
			require.Equal(t, bank.BonusPayment(int64(id), int(inst), coupon, 1), reqNo)
			got[method] = append(got[method], amount)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, "repaid", s.loanStatus(ops, id))
	}
	require.Equal(t, map[string][]string{
		"equal_installment": {"30.00", "20.05", "10.05"},
		"equal_principal":   {"30.00", "20.00", "10.00"},
		"interest_only":     {"30.00", "30.00", "30.00"},
		"bullet":            {"50.00", "82.50"},
	}, got)
	mine := s.call("GET", "/v1/me/coupons", i1.token, nil, 200)["items"].([]any)[0].(obj)
	require.Equal(t, []any{"used", "60.10"}, []any{mine["status"], mine["paid"]})
	require.Contains(t, s.amounts(i1.token, "coupon_paid"), "20.05")
	// The fund log: the disbursement's row raises the pending receivable by the
	// boost record (12,000.00 + interest 65.00 + 43.45 + 21.78 + bonus 60.10),
	// and each reward is a row of its own, the last leaving nothing to come.
	var rewards, disbursed []string
	for _, it := range s.call("GET", "/v1/me/fund-logs?limit=100", i1.token, nil, 200)["items"].([]any) {
		switch row := it.(obj); row["type"] {
		case "bonus":
			rewards = append(rewards, row["amount"].(string)+" → "+row["pending_receivable_after"].(string))
		case "disbursement":
			disbursed = append(disbursed, row["pending_receivable_after"].(string))
		}
	}
	require.Equal(t, []string{"12190.33"}, disbursed)
	require.Len(t, rewards, 3)
	require.Equal(t, "10.05 → 0.00", rewards[0], "newest first: the last reward")
	require.ElementsMatch(t, []string{"30.00", "20.05", "10.05"}, []string{rewards[0][:5], rewards[1][:5], rewards[2][:5]})
	// The unused coupon expired with the business clock, past 31 March.
	require.Equal(t, "expired", s.call("GET", "/v1/me/coupons", i6.token, nil, 200)["items"].([]any)[0].(obj)["status"])

	// 6,150.00 − 60.10 − 60.00 − 90.00 − 82.50 − 50.00; nothing owed any more.
	acct = s.call("GET", "/v1/ops/bonus-account", ops, nil, 200)
	require.Equal(t, []any{"5807.40", "0.00", "5807.40"}, []any{acct["available"], acct["liabilities"], acct["headroom"]})
	require.Equal(t, "5807.40", s.bankBalance(bank.AccountBonus), "the bonus account's ledger equals the bank")
	s.conserved()
}

func copyObj(o obj) obj {
	out := obj{}
	for k, v := range o {
		out[k] = v
	}
	return out
}
