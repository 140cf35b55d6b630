package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/reports"
)

// reportRoutes mounts the daily and monthly reports (docs/reports.md).
func (s *Server) reportRoutes(r chi.Router) {
	ops := s.requireRole(lending.RoleOps)
	r.With(ops).Get("/v1/ops/reports/daily/{date}", s.reportDaily)
	r.With(ops).Get("/v1/ops/reports/monthly/{month}", s.reportMonthly)
}

// reportColumns are a report's figures in the contract's order (docs/api.md "Endpoints"), then the money
// in and out of custody and the balances the day is checked against.
var reportColumns = []string{"disbursed", "service_fees", "risk_reserve_in", "risk_reserve_out", "repaid_principal",
	"repaid_interest", "repaid_penalty", "compensated", "recovered", "written_off", "recharges", "withdrawals",
	"withdrawal_fees", "transfer_volume", "transfer_fees", "bonus_paid",
	"bonus_top_ups", "withdrawal_reversals", "money_in", "money_out", "opening_balances", "closing_balances"}

func reportValues(f reports.Figures) []string {
	out := []string{}
	for _, d := range []interface{ StringFixed(int32) string }{f.Disbursed, f.ServiceFees, f.RiskReserveIn, f.RiskReserveOut,
		f.RepaidPrincipal, f.RepaidInterest, f.RepaidPenalty, f.Compensated, f.Recovered, f.WrittenOff, f.Recharges,
		f.Withdrawals, f.WithdrawalFees, f.TransferVolume, f.TransferFees, f.BonusPaid,
		f.BonusTopUps, f.WithdrawalReversals, f.MoneyIn(), f.MoneyOut(), f.OpeningBalances, f.ClosingBalances} {
		out = append(out, d.StringFixed(2))
	}
	return out
}

// wantsCSV: the caller asked for text/csv (docs/api.md "Endpoints": "with Accept: text/csv,
// the same as CSV").
func wantsCSV(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/csv")
}

// writeReport answers the report as JSON (one object: key first, then the
// columns, then extra) or as CSV (a header line and one row).
func writeReport(w http.ResponseWriter, r *http.Request, key, value string, cols, vals []string, extra map[string]any) {
	if wantsCSV(r) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		cw := csv.NewWriter(w)
		_ = cw.Write(append([]string{key}, cols...))
		_ = cw.Write(append([]string{value}, vals...))
		cw.Flush()
		return
	}
	body := map[string]any{key: value}
	for i, c := range cols {
		body[c] = vals[i]
	}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) reportDaily(w http.ResponseWriter, r *http.Request) {
	date, fe := parseDate("date", chi.URLParam(r, "date"))
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return
	}
	d, err := s.books.Day(r.Context(), date)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeReport(w, r, "date", d.Date.Format(time.DateOnly), reportColumns, reportValues(d.Figures), nil)
}

func (s *Server) reportMonthly(w http.ResponseWriter, r *http.Request) {
	first, err := time.Parse("2006-01", chi.URLParam(r, "month"))
	if err != nil || len(chi.URLParam(r, "month")) != len("2006-01") {
		s.writeError(w, r, Validation(FieldError{Field: "month", Message: "must be a month YYYY-MM"}))
		return
	}
	m, err := s.books.Month(r.Context(), first)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st := statsBody(m.Disclosure)
	cols, vals := append([]string{}, reportColumns...), reportValues(m.Figures)
	if wantsCSV(r) {
		// The disclosure figures as columns of their own, disclosure_*.
		cols, vals = append(cols, "disclosure_as_of"), append(vals, st.AsOf)
		for _, f := range disclosureFigures(st) {
			cols, vals = append(cols, "disclosure_"+f.Name), append(vals, f.Value)
		}
	}
	writeReport(w, r, "month", first.Format("2006-01"), cols, vals, map[string]any{"disclosure": st})
}

// disclosureFigures are the disclosure figures at a month's end, named as
// the CSV's columns and the console's rows name them.
func disclosureFigures(st statsResponse) []console.Figure {
	names := []string{"cumulative_volume", "outstanding_principal", "borrowers", "investors", "overdue_amount",
		"overdue_rate", "m3_plus_amount", "written_off", "risk_reserve_balance", "transfers_sold", "transfer_volume",
		"transfer_fees"}
	vals := []string{st.CumulativeVolume, st.OutstandingPrincipal, itoa(st.Borrowers), itoa(st.Investors), st.OverdueAmount,
		st.OverdueRate, st.M3PlusAmount, st.WrittenOff, st.RiskReserveBalance, itoa(st.TransfersSold), st.TransferVolume,
		st.TransferFees}
	out := make([]console.Figure, len(names))
	for i := range names {
		out[i] = console.Figure{Name: names[i], Value: vals[i]}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
