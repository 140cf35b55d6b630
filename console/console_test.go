package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryPageRenders: every page renders with its view empty and full,
// with the security headers, and escapes what it is given.
func TestEveryPageRenders(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	page := Page{Title: "T", User: "ops@x", Today: "2026-01-31", Mode: "sandbox", CSRF: "tok", Flash: "done <b>"}
	views := map[string][]any{
		"login": {LoginView{}, LoginView{Page: Page{Problem: &Problem{Code: "unauthenticated", Title: "Unauthorized", Detail: "wrong"}}, Email: "a@b", Token: "t"}},
		"queues": {QueuesView{}, QueuesView{Page: page, Counts: []Count{{Name: "Due", Anchor: "due-diligence", N: 2}},
			DueDiligence: []LoanRow{{ID: 7, Status: "due_diligence", Amount: "60000.00"}}, Tasks: []TaskRow{{LoanID: 7, DPD: 40, Bucket: "M2", Name: "张三"}}}},
		"loan": {LoanView{}, LoanView{Page: page, Loan: LoanDetail{ID: 7, Status: "overdue"}, Borrower: Person{Name: "张*"},
			Schedule: []InstallmentRow{{No: 1, Status: "overdue", DPD: 3}}, Actions: []Action{{Kind: "due-diligence", Decide: true, Terms: true, Current: true}, {Kind: "disbursement-retry"}},
			Grades: []string{"A"}, History: []HistoryRow{{Note: "<script>x</script>"}}, Investors: []InvestorRow{{BidID: 1}}}},
		"reconciliation": {ReconciliationView{}, ReconciliationView{Page: page, Date: "2026-01-30", Status: "mismatched", Differences: []Difference{{RequestNo: "r-1"}}}},
		"disclosure": {DisclosureView{Chart: Chart{Empty: true}}, DisclosureView{Page: page, Figures: []Figure{{Name: "n", Value: "1.00"}},
			Chart:   OverdueChart([]string{"M1", "M2"}, []ChartPoint{{Date: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), Values: []decimal.Decimal{decimal.NewFromInt(5), decimal.NewFromInt(5)}}}),
			History: []HistoryPoint{{Date: "2026-01-31", Buckets: []string{"5.00", "5.00"}}}}},
		"clock": {ClockView{}, ClockView{Page: page, Advance: &Advance{From: "a", To: "b", Running: true, Percent: 40}, Quick: []QuickAdvance{{Label: "+1 day", To: "2026-02-01"}}}},
		"calendar": {CalendarView{}, CalendarView{Page: page, Year: 2026, Holidays: []string{"2026-10-01"}, Workdays: []string{"2026-10-10"},
			HolidaysText: "<script>x</script>", Set: true, UpdatedBy: 1, UpdatedAt: "2026-01-31T00:00:00Z"}},
		"coupons": {CouponsView{}, CouponsView{Page: page, Available: "1.00", Liabilities: "0.50", Headroom: "0.50", Note: "<script>x</script>",
			Failed: []BonusPaymentRow{{ID: 1, LoanID: 2, UserID: 3, CouponID: 4, Installment: 1, Attempt: 1, Amount: "3.33", Code: "insufficient_balance"}}}},
		"error": {Page{Title: "Forbidden", Problem: &Problem{Status: 403, Code: "forbidden"}}},
		"reports": {ReportsView{}, ReportsView{Page: page, Month: "2026-03", Figures: []Figure{{Name: "disbursed", Value: "1.00"}}, Balanced: true,
			Disclosure: []Figure{{Name: "<script>x</script>", Value: "1"}}, Columns: []string{"disbursed"}, Days: []ReportDayRow{{Date: "2026-03-01", Values: []string{"1.00"}}},
			MoneyChart:   LineChart([]string{"recharges", "withdrawals"}, []ChartPoint{{Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Values: []decimal.Decimal{decimal.NewFromInt(5), decimal.NewFromInt(2)}}}, "x"),
			LendingChart: LineChart(nil, nil, "y")}},
		"users": {UsersView{}, UsersView{Page: page, Q: "<script>x</script>", Searched: true, Users: []UserRow{{UserID: 1, Name: "张*", Locked: true}}}},
		"user": {UserView{}, UserView{Page: page, Person: UserRow{UserID: 1, Name: "<script>x</script>"}, Bank: &Balances{Available: "1.00"},
			Revealed: &RevealedPerson{Name: "张三"}, Loans: []UserLoanRow{{ID: 1}}, Holdings: []UserHoldingRow{{LoanID: 1}}, Bids: []BidRow{{ID: 1}},
			Withdrawals: []WithdrawalRow{{ID: 1, Status: "processing"}}, Transfers: []UserTransferRow{{ID: 1}}, Coupons: []UserCouponRow{{ID: 1}}, Notifications: []NoticeRow{{Kind: "k"}},
			FundLog: []FundRow{{ID: 1, Type: "recharge"}}, Actions: []ActionRow{{Note: "<script>x</script>"}}}},
	}
	require.Len(t, views, len(Pages))
	for name, vs := range views {
		for i, v := range vs {
			w := httptest.NewRecorder()
			require.NoError(t, r.Render(w, 200, name, v), "%s %d", name, i)
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src 'self'")
			body := w.Body.String()
			assert.True(t, strings.HasPrefix(body, "<!doctype html>"), name)
			assert.NotContains(t, body, "<script>x</script>", "%s: text is escaped", name)
			assert.NotContains(t, body, "done <b>", "%s: the flash is escaped", name)
			assert.NotContains(t, body, "style=", "%s: no inline styles (the CSP forbids them)", name)
		}
	}
	assert.Error(t, r.Render(httptest.NewRecorder(), 200, "nope", nil))
}

// TestOverdueChart: the bands stack bucket on bucket in date order, dates
// placed by time (a gap stays a gap), the axis rounded up to a nice step.
func TestOverdueChart(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	m := decimal.RequireFromString
	c := OverdueChart([]string{"M1", "M2"}, []ChartPoint{
		{Date: d("2026-01-01"), Values: []decimal.Decimal{m("1000.00"), m("0.00")}},
		{Date: d("2026-01-03"), Values: []decimal.Decimal{m("500.00"), m("3000.00")}},
		{Date: d("2026-01-11"), Values: []decimal.Decimal{m("0.00"), m("0.00")}},
	})
	require.False(t, c.Empty)
	require.Len(t, c.Series, 2)
	// Axis: the top is 3500.00, so 4 steps of 1000 up to 4000.
	labels := []string{}
	for _, tk := range c.YTicks {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"0", "1k", "2k", "3k", "4k"}, labels)
	// x: the plot spans 10 days over 684 px, so 2026-01-03 is 2/10 of the way.
	// M1's top edge: 1000 → 248 − 1000/4000·232 = 190.0; 500 → 219.0; 0 → 248.0.
	assert.Equal(t, "64.0,190.0 200.8,219.0 748.0,248.0 748.0,248.0 200.8,248.0 64.0,248.0", c.Series[0].Polygon)
	// M2 sits on M1: its top is the sum (3500 → 45.0), its bottom M1's top.
	assert.Equal(t, "64.0,190.0 200.8,45.0 748.0,248.0 748.0,248.0 200.8,219.0 64.0,190.0", c.Series[1].Polygon)
	assert.Equal(t, "2026-01-03, M1 500.00, M2 3000.00", c.Dots[1].Title)
	assert.Equal(t, "01-01", c.XTicks[0].Label)
	assert.Equal(t, "01-11", c.XTicks[len(c.XTicks)-1].Label)

	one := OverdueChart([]string{"M1"}, []ChartPoint{{Date: d("2026-01-01"), Values: []decimal.Decimal{m("10.00")}}})
	assert.Equal(t, "392.0,16.0 420.0,16.0 420.0,248.0 392.0,248.0", one.Series[0].Polygon, "one date is a bar, centred")
	assert.True(t, OverdueChart([]string{"M1"}, nil).Empty)
	for v, want := range map[float64]string{0: "0", 25: "25", 2500: "2.5k", 60000: "60k", 1250000: "1.2M", 2000000: "2M"} {
		assert.Equal(t, want, compactAmount(v), "%v", v)
	}
	zero := OverdueChart([]string{"M1"}, []ChartPoint{{Date: d("2026-01-01"), Values: []decimal.Decimal{m("0.00")}}})
	assert.Equal(t, "100", zero.YTicks[len(zero.YTicks)-1].Label, "nothing overdue still has an axis")
}

// TestLineChart: each series its own line, not stacked, over a shared axis
// rounded up to a nice step.
func TestLineChart(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	m := decimal.RequireFromString
	c := LineChart([]string{"recharges", "withdrawals"}, []ChartPoint{
		{Date: d("2026-03-01"), Values: []decimal.Decimal{m("1000.00"), m("0.00")}},
		{Date: d("2026-03-11"), Values: []decimal.Decimal{m("3000.00"), m("500.00")}},
	}, "money")
	require.Len(t, c.Series, 2)
	// The top is 3000.00: 4 steps of 1000 up to 4000; y = 248 − v/4000·232.
	assert.Equal(t, "64.0,190.0 748.0,74.0", c.Series[0].Line)
	assert.Equal(t, "64.0,248.0 748.0,219.0", c.Series[1].Line)
	assert.Equal(t, "2026-03-11, recharges 3000.00, withdrawals 500.00", c.Dots[1].Title)
	assert.True(t, LineChart(nil, nil, "x").Empty)
}
