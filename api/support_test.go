package api

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/kyc"
)

// The customer-service routes: the search finds the registered investor by
// phone, ID number, e-mail and id, masked; the page answers every field
// (coupons an empty list, no bank without an account); the reveal needs a
// reason, answers the data whole and is audited.
func TestSupportRoutes(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	register(t, srv, "who@test.cn", "investor", 4)
	id := userID(t, s, "who@test.cn")
	var got struct {
		Items []map[string]any `json:"items"`
	}
	for _, q := range []string{"13800138004", validID(4), "WHO@test.cn", fmt.Sprint(id)} {
		a := do(t, srv, "GET", "/v1/ops/users?q="+url.QueryEscape(q), ops, "", "")
		require.Equal(t, 200, a.status, a.raw)
		require.NoError(t, decodeLenient([]byte(a.raw), &got))
		require.Len(t, got.Items, 1, q)
		assert.Equal(t, float64(id), got.Items[0]["user_id"])
		assert.Equal(t, "张*", got.Items[0]["name"])
		assert.Equal(t, "138****8004", got.Items[0]["phone"])
		assert.NotContains(t, a.raw, validID(4))
	}
	a := do(t, srv, "GET", "/v1/ops/users?q=", ops, "", "")
	assert.Equal(t, 422, a.status)

	a = do(t, srv, "GET", fmt.Sprintf("/v1/ops/users/%d", id), ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, kyc.MaskIDNumber(validID(4)), a.body["id_number"])
	assert.Equal(t, []any{}, a.body["coupons"])
	assert.Nil(t, a.body["bank"], "no custody account")
	assert.Equal(t, "0.00", a.body["account"].(map[string]any)["available"])
	for _, f := range []string{"loans", "holdings", "bids", "withdrawals", "transfers", "notifications", "fund_logs", "actions"} {
		assert.Contains(t, a.body, f)
	}
	assert.Equal(t, 404, do(t, srv, "GET", "/v1/ops/users/999999", ops, "", "").status)
	assert.Equal(t, 200, do(t, srv, "GET", fmt.Sprintf("/v1/ops/users/%d/fund-logs", id), ops, "", "").status)
	assert.Equal(t, 404, do(t, srv, "GET", "/v1/ops/users/999999/fund-logs", ops, "", "").status)

	a = do(t, srv, "POST", fmt.Sprintf("/v1/ops/users/%d/reveal", id), ops, "", `{"reason":""}`)
	assert.Equal(t, 422, a.status)
	assert.Empty(t, auditRows(t, s), "a refused reveal leaves no record")
	a = do(t, srv, "POST", fmt.Sprintf("/v1/ops/users/%d/reveal", id), ops, "", `{"reason":"customer called"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, validID(4), a.body["id_number"])
	assert.Equal(t, "张三", a.body["name"])
	assert.Equal(t, []auditRow{{userID(t, s, "ops@test.cn"), "user_reveal", fmt.Sprintf("user:%d", id), "customer called"}}, auditRows(t, s))
}
