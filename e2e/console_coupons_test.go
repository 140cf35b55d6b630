package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestConsoleCouponsInABrowser: ops run the bonus account from the console's
// Coupons page in headless Chromium (docs/console.md): a grant beyond the
// headroom is refused there (bonus_budget_exceeded) with what ops typed kept;
// a top-up of 100.00 from the platform's card; a cash coupon of 20.00 granted,
// which the investor then holds; the headroom left, 80.00. With
// LENDFLOW_CONSOLE_SCREENSHOTS=docs/console it saves the page (coupons-*).
func TestConsoleCouponsInABrowser(t *testing.T) {
	t.Parallel()
	_ = chromium(t)
	s := start(t, "2026-03-02")
	b := newBrowser(t, s.api)
	inv := s.investor("券投资", "")

	b.open("/console/")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=email]`), "ops@lendflow.test"),
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=password]`), "ops-password-1"),
		chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	)
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/console/coupons"]`)), chromedp.WaitVisible(chromedp.ID("grant-form")))
	require.Equal(t, "0.00", b.text("#bonus-headroom"))

	grant := func(amount string) {
		b.do(
			chromedp.SendKeys(chromedp.CSS(`#grant-form input[name=user_id]`), fmt.Sprintf("%.0f", inv.id)),
			chromedp.SendKeys(chromedp.CSS(`#grant-form input[name=amount]`), amount),
			chromedp.SetValue(chromedp.CSS(`#grant-form input[name=expires_on]`), "2026-03-31"),
			chromedp.SendKeys(chromedp.CSS(`#grant-form input[name=note]`), "新人红包"),
			chromedp.Click(chromedp.CSS(`#grant-form button`)),
		)
	}
	grant("20.00")
	b.do(chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, b.text("#problem"), "bonus_budget_exceeded")

	b.open("/console/coupons")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#top-up-form input[name=amount]`), "100.00"),
		chromedp.Click(chromedp.CSS(`#top-up-form button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	require.Equal(t, "The bonus account is topped up.", b.text("#flash"))
	require.Equal(t, "100.00", b.text("#bonus-available"))

	b.open("/console/coupons") // a page without the top-up's line
	grant("20.00")
	b.do(chromedp.WaitVisible(chromedp.ID("flash")))
	require.Contains(t, b.text("#flash"), "is granted")
	require.Equal(t, []string{"100.00", "20.00", "80.00"}, []string{b.text("#bonus-available"), b.text("#bonus-liabilities"), b.text("#bonus-headroom")})
	b.shot("coupons")

	mine := s.call("GET", "/v1/me/coupons", inv.token, nil, 200)["items"].([]any)
	require.Len(t, mine, 1)
	require.Equal(t, []any{"cash", "20.00", "unused", "2026-03-31"},
		[]any{mine[0].(obj)["kind"], mine[0].(obj)["amount"], mine[0].(obj)["status"], mine[0].(obj)["expires_on"]})
}
