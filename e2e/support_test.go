package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank/sim"
)

// TestConsoleSupportCase walks a support case in the browser (issue 21
// point 1): an investor calls, "I withdrew 1,200.00 and it has not arrived;
// where is my money?". They recharged 5,000.00, bid 2,000.00 on a listing
// and withdrew 1,200.00, which the bank still has (processing: the bank is
// slow today). Ops find them by the phone they call from, open their page
// and see the withdrawal processing, the account as the ledger and the bank
// see it, and where each yuan went in the fund log: +5,000.00 in, −2,000.00
// frozen for the bid, −1,200.00 on its way to the card, 1,800.00 left. To
// tell them which card, ops reveal the person with a reason, which the
// page's ops actions (the audit log) then show.
//
// With LENDFLOW_CONSOLE_SCREENSHOTS=docs/console it saves the search and the
// page (users-search, user-support-case) at laptop and phone width.
func TestConsoleSupportCase(t *testing.T) {
	t.Parallel()
	_ = chromium(t)
	s := startWith(t, "2026-03-02", func(_ *app.Config, c *sim.Config) { c.WithdrawalDelay = time.Hour })
	b := newBrowser(t, s.api)
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)

	borrower := s.signUp("borrower", "张三")
	inv := s.signUp("investor", "李四")
	phone := fmt.Sprintf("1380000%04d", s.last())
	s.call("POST", "/v1/me/risk-assessment", inv.token, obj{"answers": []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}, 200)
	s.call("POST", "/v1/me/recharges", inv.token, obj{"amount": "5000.00"}, 201)
	loan := s.call("POST", "/v1/loans", borrower.token, obj{"amount": "10000.00", "term_months": 3,
		"repayment_method": "equal_installment", "purpose": "shop renovation", "monthly_income": "50000.00"}, 201)
	id := loan["loan_id"].(float64)
	// Screening lists it at once, or asks ops first.
	var st string
	s.waitFor("screened", func() bool { st = s.loanStatus(ops, id); return st == "due_diligence" || st == "listed" })
	if st == "due_diligence" {
		s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/due-diligence", id), ops, obj{"decision": "approve", "note": "ok"}, 200)
		s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
	}
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, obj{"amount": "2000.00"}, 201)
	w := s.call("POST", "/v1/me/withdrawals", inv.token, obj{"amount": "1200.00"}, 201)
	require.Equal(t, "processing", w["status"])

	b.open("/console/")
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=email]`), "ops@lendflow.test"),
		chromedp.SendKeys(chromedp.CSS(`#login-form input[name=password]`), "ops-password-1"),
		chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	)

	// Find the investor by the phone they call from: one user, masked.
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/console/users"]`)), chromedp.WaitVisible(chromedp.ID("user-search")))
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#user-search input[name=q]`), phone),
		chromedp.Click(chromedp.CSS(`#user-search button`)),
		chromedp.WaitVisible(chromedp.ID("users-found")),
	)
	require.Equal(t, 1, b.count("#users-found tbody tr"))
	found := b.text("#users-found tbody tr")
	require.Contains(t, found, "李*")
	require.Contains(t, found, "138****"+phone[7:])
	require.NotContains(t, found, phone)
	b.shot("users-search")

	// The page: the withdrawal with the bank, and where each yuan went.
	b.do(chromedp.Click(chromedp.CSS(`#users-found tbody a`)), chromedp.WaitVisible(chromedp.ID("fund-log")))
	require.Equal(t, fmt.Sprintf("/console/users/%.0f", inv.id), b.location())
	require.Equal(t, "李*", b.text("#person-name"))
	withdrawals := b.text("#withdrawals tbody")
	require.Contains(t, withdrawals, "1200.00")
	require.Contains(t, withdrawals, "processing")
	require.Equal(t, "1800.00", b.text("#platform-available"), "5000.00 − 2000.00 frozen − 1200.00 withdrawn")
	require.NotEmpty(t, b.text("#bank-available"), "the bank's own balance is shown beside the ledger's")
	var rows []string
	for i := 1; i <= b.count("#fund-log tbody tr"); i++ {
		row := strings.Fields(b.text(fmt.Sprintf("#fund-log tbody tr:nth-child(%d)", i)))
		rows = append(rows, strings.Join(row[2:], " "))
	}
	t.Logf("the investor's fund log, newest first:\n%s", strings.Join(rows, "\n"))
	require.Len(t, rows, 3)
	// Each line: its kind ("—" when it is the type's own), the amount, the
	// balances after, what the claims are still owed after (nothing: the
	// bid is not yet lent), the counterpart; dated by the business date.
	require.Contains(t, rows[0], "— -1200.00 1800.00 2000.00 0.00 bank card", "the withdrawal: 1800.00 available, the bid's 2000.00 frozen")
	require.Contains(t, rows[1], "— -2000.00 3000.00 2000.00 0.00", "the bid's freeze")
	require.Contains(t, rows[2], "— 5000.00 5000.00 0.00 0.00 bank card", "the recharge")
	for i := 1; i <= len(rows); i++ {
		require.Equal(t, "2026-03-02", b.text(fmt.Sprintf("#fund-log tbody tr:nth-child(%d) td:first-child", i)), "the business date")
	}
	require.Contains(t, strings.ToLower(b.text("#fund-log thead")), "pending receivable after")
	require.Contains(t, b.text("#bids tbody"), "2000.00")
	b.shot("user-support-case")

	// The investor asks which card the money went to: ops reveal the person,
	// naming why; the reveal is on the page's ops actions (the audit log).
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#reveal-form input[name=reason]`), "investor asks which card the withdrawal went to"),
		chromedp.Click(chromedp.CSS(`#reveal-form button`)),
		chromedp.WaitVisible(chromedp.ID("person-card")),
	)
	require.Equal(t, "李四", b.text("#person-name"))
	require.Equal(t, phone, b.text("#person-phone"))
	require.Equal(t, cardFor(s.last()), b.text("#person-card"))
	actions := b.text("#actions tbody")
	require.Contains(t, actions, "user reveal")
	require.Contains(t, actions, "investor asks which card the withdrawal went to")
}
