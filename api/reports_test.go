package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/ledger"
)

// The report routes: a day's figures as JSON and as CSV (the same figures),
// a month with its disclosure figures, and the dates refused.
func TestReportRoutes(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	id := userID(t, s, "ops@test.cn")
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	require.NoError(t, pgx.BeginFunc(context.Background(), s.Pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(context.Background(), tx,
			ledger.Recharge("rc-1", id, decimal.RequireFromString("300.00"), day),
			ledger.Withdrawal("wd-1", id, decimal.RequireFromString("100.00"), decimal.RequireFromString("2.00"), day))
		return err
	}))

	a := do(t, srv, "GET", "/v1/ops/reports/daily/2026-01-31", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "2026-01-31", a.body["date"])
	assert.Equal(t, "300.00", a.body["recharges"])
	assert.Equal(t, "100.00", a.body["withdrawals"])
	assert.Equal(t, "2.00", a.body["withdrawal_fees"])
	assert.Equal(t, "200.00", a.body["closing_balances"], "300.00 in − 100.00 out; the 2.00 fee stays in custody")

	req, err := http.NewRequest("GET", srv.URL+"/v1/ops/reports/daily/2026-01-31", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ops)
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], "date,disbursed,service_fees,risk_reserve_in,risk_reserve_out,repaid_principal,"), lines[0])
	assert.Equal(t, "2026-01-31,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,300.00,100.00,2.00,0.00,0.00,0.00,0.00,0.00,300.00,100.00,0.00,200.00", lines[1])

	a = do(t, srv, "GET", "/v1/ops/reports/monthly/2026-01", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "2026-01", a.body["month"])
	assert.Equal(t, "300.00", a.body["recharges"])
	assert.Equal(t, "2026-01-31", a.body["disclosure"].(map[string]any)["as_of"])

	assert.Equal(t, 422, do(t, srv, "GET", "/v1/ops/reports/daily/2026-02-01", ops, "", "").status, "a day to come")
	assert.Equal(t, 422, do(t, srv, "GET", "/v1/ops/reports/daily/2026-02-30", ops, "", "").status)
	assert.Equal(t, 422, do(t, srv, "GET", "/v1/ops/reports/monthly/2026-13", ops, "", "").status)
	assert.Equal(t, 422, do(t, srv, "GET", "/v1/ops/reports/monthly/2026-02", ops, "", "").status, "a month to come")
}
