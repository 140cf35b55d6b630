package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GET /v1/me/fund-logs carries each line's kind and pending_receivable_after
// beside the fields it had (docs/money.md "Fund log"): a withdrawal with a fee
// is two lines of one entry, its amount and its fee.
func TestFundLogLinesOverHTTP(t *testing.T) {
	p := newPlatform(t)
	tok, u := p.person(t, "investor", 1, "2000.00")
	for _, amount := range []string{"500.00", "1000.00"} { // the month's free one, then 3.00
		a := do(t, p.srv, "POST", "/v1/me/withdrawals", tok, "", `{"amount":"`+amount+`"}`)
		require.Contains(t, []int{201, 202}, a.status, a.raw)
	}
	a := do(t, p.srv, "GET", "/v1/me/fund-logs", tok, "", "")
	require.Equal(t, 200, a.status, a.raw)
	var got [][5]any
	for _, it := range a.body["items"].([]any) {
		m := it.(map[string]any)
		got = append(got, [5]any{m["type"], m["kind"], m["amount"], m["available_after"], m["pending_receivable_after"]})
	}
	assert.Equal(t, [][5]any{
		{"withdrawal", "withdrawal_fee", "-3.00", "497.00", "0.00"},
		{"withdrawal", "withdrawal", "-1000.00", "500.00", "0.00"},
		{"withdrawal", "withdrawal", "-500.00", "1500.00", "0.00"},
		{"recharge", "recharge", "2000.00", "2000.00", "0.00"},
	}, got)
	items := a.body["items"].([]any)
	assert.Equal(t, items[0].(map[string]any)["id"], items[1].(map[string]any)["id"], "one entry, two lines")

	// Ops read the same log, line for line (GET /v1/ops/users/{id}/fund-logs answers as this).
	o := do(t, p.srv, "GET", fmt.Sprintf("/v1/ops/users/%d/fund-logs", u.ID), p.ops(t), "", "")
	require.Equal(t, 200, o.status, o.raw)
	assert.Equal(t, a.body["items"], o.body["items"])
}
