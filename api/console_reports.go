package api

import (
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/errs"
)

// consoleReports is the books of a month (reports.Service.Month and .Days,
// as GET /v1/ops/reports/monthly/{month} and daily/{date}).
func (s *Server) consoleReports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := console.ReportsView{Page: s.page(ctx, "Reports", "reports")}
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	status := http.StatusOK
	if q := r.URL.Query().Get("month"); q != "" {
		m, perr := time.Parse("2006-01", q)
		if perr != nil || len(q) != len("2006-01") {
			v.Problem, _ = consoleProblem(Validation(FieldError{Field: "month", Message: "must be a month YYYY-MM"}))
			status = v.Problem.Status
		} else {
			first = m
		}
	}
	v.Month, v.Prev, v.Next = first.Format("2006-01"), first.AddDate(0, -1, 0).Format("2006-01"), first.AddDate(0, 1, 0).Format("2006-01")
	if v.Problem == nil && first.After(today) {
		v.Problem, _ = consoleProblem(errs.Invalid("month", "after the business date %s", today.Format(time.DateOnly)))
		status = v.Problem.Status
	}
	if v.Problem == nil {
		m, err := s.books.Month(ctx, first)
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		days, err := s.books.Days(ctx, first, first.AddDate(0, 1, -1))
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		vals := reportValues(m.Figures)
		for i, c := range reportColumns {
			v.Figures = append(v.Figures, console.Figure{Name: c, Value: vals[i]})
		}
		st := statsBody(m.Disclosure)
		v.DisclosureAsOf = st.AsOf
		v.Disclosure = disclosureFigures(st)
		v.Balanced = m.Balanced()
		v.Columns = reportColumns
		var money, lending []console.ChartPoint
		for _, d := range days {
			v.Days = append(v.Days, console.ReportDayRow{Date: d.Date.Format(time.DateOnly), Values: reportValues(d.Figures)})
			money = append(money, console.ChartPoint{Date: d.Date, Values: []decimal.Decimal{d.Recharges, d.Withdrawals}})
			lending = append(lending, console.ChartPoint{Date: d.Date, Values: []decimal.Decimal{d.Disbursed, d.RepaidPrincipal, d.RepaidInterest}})
		}
		v.MoneyChart = console.LineChart([]string{"recharges", "withdrawals"}, money, "recharges and withdrawals")
		v.LendingChart = console.LineChart([]string{"disbursed", "repaid principal", "repaid interest"}, lending, "disbursed and repaid")
	}
	s.render(w, r, status, "reports", v)
}
