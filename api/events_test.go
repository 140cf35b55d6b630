package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/events"
)

// GET /v1/ops/events pages the feed by the last id read: next_after is what
// to ask with next, the same after when nothing is new. Ops only.
func TestEventFeedPages(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	ctx := context.Background()
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, n := range []events.New{
		{Type: "loan.listed", BusinessDate: day, LoanID: 7, UserID: 3, Data: map[string]string{"status": "listed"}},
		{Type: "ledger.recharge", BusinessDate: day, UserID: 4, Data: map[string]string{"amount": "100.00"}},
		{Type: "loan.full", BusinessDate: day, LoanID: 7},
	} {
		require.NoError(t, events.Write(ctx, s.q(), n))
	}
	a := do(t, srv, "GET", "/v1/ops/events?limit=2", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	items := a.body["items"].([]any)
	require.Len(t, items, 2)
	first := items[0].(map[string]any)
	assert.Equal(t, map[string]any{"id": 1.0, "type": "loan.listed", "at": first["at"], "business_date": "2026-01-31",
		"loan_id": 7.0, "user_id": 3.0, "data": map[string]any{"status": "listed"}}, first)
	assert.NotContains(t, items[1].(map[string]any), "loan_id", "none: left out")
	assert.Equal(t, 2.0, a.body["next_after"])

	a = do(t, srv, "GET", "/v1/ops/events?after=2", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	require.Len(t, a.body["items"], 1)
	assert.Equal(t, 3.0, a.body["next_after"])
	a = do(t, srv, "GET", "/v1/ops/events?after=3", ops, "", "")
	assert.Equal(t, []any{}, a.body["items"])
	assert.Equal(t, 3.0, a.body["next_after"], "nothing new: ask again with the same")

	a = do(t, srv, "GET", "/v1/ops/events?after=-1&limit=1001", ops, "", "")
	require.Equal(t, 422, a.status, a.raw)
	assert.Len(t, a.body["errors"], 2)
	inv := register(t, srv, "inv@test.cn", "investor", 1)
	assert.Equal(t, 403, do(t, srv, "GET", "/v1/ops/events", inv, "", "").status)
}

// POST /v1/ops/webhooks registers a URL and types: 201 {webhook_id, secret};
// GET /v1/ops/webhooks/{id}/deliveries shows each event queued for it, with
// its attempts and status.
func TestWebhookRegistrationAndDeliveries(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	a := do(t, srv, "POST", "/v1/ops/webhooks", ops, "k1", `{"url":"https://hooks.example.com/lendflow","types":["loan.*","ledger.repayment"]}`)
	require.Equal(t, 201, a.status, a.raw)
	id := a.body["webhook_id"].(float64)
	assert.Regexp(t, `^whsec_[0-9a-f]{64}$`, a.body["secret"])
	again := do(t, srv, "POST", "/v1/ops/webhooks", ops, "k1", `{"url":"https://hooks.example.com/lendflow","types":["loan.*","ledger.repayment"]}`)
	assert.Equal(t, a.raw, again.raw, "the same key: the same webhook")

	for body, field := range map[string]string{
		`{"url":"http://10.0.0.5/x","types":["*"]}`:    "url",
		`{"url":"gopher://example.com","types":["*"]}`: "url",
		`{"url":"https://example.com","types":[]}`:     "types",
		`{"url":"https://example.com","types":["x"]}`:  "types",
	} {
		a := do(t, srv, "POST", "/v1/ops/webhooks", ops, "", body)
		require.Equal(t, 422, a.status, a.raw)
		assert.Equal(t, field, a.body["errors"].([]any)[0].(map[string]any)["field"], body)
	}
	assert.Equal(t, 422, do(t, srv, "POST", "/v1/ops/webhooks", ops, "", `{"url":"https://example.com","types":["*"],"secret":"mine"}`).status,
		"unknown fields are refused")
	inv := register(t, srv, "inv@test.cn", "investor", 1)
	assert.Equal(t, 403, do(t, srv, "POST", "/v1/ops/webhooks", inv, "", `{"url":"https://example.com","types":["*"]}`).status)

	path := fmt.Sprintf("/v1/ops/webhooks/%.0f/deliveries", id)
	a = do(t, srv, "GET", path, ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, []any{}, a.body["items"])
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	require.NoError(t, events.Write(context.Background(), s.q(), events.New{Type: "loan.repaid", BusinessDate: day, LoanID: 7}))
	require.NoError(t, events.Write(context.Background(), s.q(), events.New{Type: "ledger.recharge", BusinessDate: day, UserID: 2}))
	_, err := events.Number(context.Background(), s.Pool)
	require.NoError(t, err)
	a = do(t, srv, "GET", path, ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	items := a.body["items"].([]any)
	require.Len(t, items, 1, "the recharge is not among its types")
	item := items[0].(map[string]any)
	assert.Equal(t, 1.0, item["event_id"])
	assert.Equal(t, "pending", item["status"])
	assert.Equal(t, 0.0, item["attempts"])
	assert.Nil(t, item["last_status_code"])
	assert.NotNil(t, item["next_attempt_at"])

	assert.Equal(t, 422, do(t, srv, "GET", path+"?status=done", ops, "", "").status)
	assert.Equal(t, 404, do(t, srv, "GET", "/v1/ops/webhooks/999/deliveries", ops, "", "").status)
	assert.Equal(t, 404, do(t, srv, "GET", "/v1/ops/webhooks/x/deliveries", ops, "", "").status)
}
