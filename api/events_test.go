package api

import (
	"context"
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
		require.NoError(t, events.Write(ctx, s.Q, n))
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
