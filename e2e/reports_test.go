package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestConsoleReports: four business days of recharges and withdrawals
// (investor i recharges 1,000.00 × day and withdraws 100.00 × day, the
// month's first withdrawal free, each later one 3.00), the clock moved a
// day at a time; the daily report of each day says so to the fen and
// balances; the console's Reports page shows March with its charts.
// With LENDFLOW_CONSOLE_SCREENSHOTS=docs/console it saves it (reports).
func TestConsoleReports(t *testing.T) {
	t.Parallel()
	_ = chromium(t)
	s := start(t, "2026-03-02")
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
	inv := s.signUp("investor", "李四")
	days := []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}
	for i, d := range days {
		if i > 0 {
			s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": d}, 200)
		}
		s.call("POST", "/v1/me/recharges", inv.token, obj{"amount": fmt.Sprintf("%d000.00", i+1)}, 201)
		s.call("POST", "/v1/me/withdrawals", inv.token, obj{"amount": fmt.Sprintf("%d00.00", i+1)}, 201)
	}
	for i, d := range days {
		r := s.call("GET", "/v1/ops/reports/daily/"+d, ops, nil, 200)
		fee := "3.00"
		if i == 0 {
			fee = "0.00"
		}
		require.Equal(t, fmt.Sprintf("%d000.00", i+1), r["recharges"], d)
		require.Equal(t, fmt.Sprintf("%d00.00", i+1), r["withdrawals"], d)
		require.Equal(t, fee, r["withdrawal_fees"], d)
		t.Logf("%s: recharges %s, withdrawals %s, fees %s; in %s − out %s; balances %s → %s", d, r["recharges"], r["withdrawals"],
			r["withdrawal_fees"], r["money_in"], r["money_out"], r["opening_balances"], r["closing_balances"])
	}
	m := s.call("GET", "/v1/ops/reports/monthly/2026-03", ops, nil, 200)
	require.Equal(t, "10000.00", m["recharges"])
	require.Equal(t, "1000.00", m["withdrawals"])
	require.Equal(t, "9.00", m["withdrawal_fees"])
	require.Equal(t, "9000.00", m["closing_balances"])

	b := newBrowser(t, s.api)
	b.open("/console/")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=email]`), "ops@lendflow.test"),
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=password]`), "ops-password-1"),
		chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	)
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/console/reports"]`)), chromedp.WaitVisible(chromedp.ID("money-chart")))
	require.Equal(t, "10000.00", b.text(`[data-figure="recharges"]`))
	require.Equal(t, "balances", b.text("#balanced"))
	require.Equal(t, 2, b.count("#money-chart polyline"))
	require.Equal(t, 5, b.count("#days tbody tr"), "1 to 5 March")
	b.shot("reports")
}
