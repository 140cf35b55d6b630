package api

import (
	"net/http"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/ledger"
)

type statsResponse struct {
	AsOf                 string            `json:"as_of"`
	CumulativeVolume     string            `json:"cumulative_volume"`
	OutstandingPrincipal string            `json:"outstanding_principal"`
	Borrowers            int64             `json:"borrowers"`
	Investors            int64             `json:"investors"`
	OverdueAmount        string            `json:"overdue_amount"`
	OverdueRate          string            `json:"overdue_rate"` // overdue amount / outstanding principal, 4 places
	OverdueByBucket      map[string]string `json:"overdue_by_bucket"`
	M3PlusAmount         string            `json:"m3_plus_amount"`
	WrittenOff           string            `json:"written_off"`
	RiskReserveBalance   string            `json:"risk_reserve_balance"`
}

// stats publishes the platform's operating figures (信息披露, DOMAIN.md "Disclosure").
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	vol, err := s.Q.StatsVolume(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	outstanding, err := s.Q.StatsOutstanding(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buckets, err := s.Q.StatsOverdueBuckets(ctx, today)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writtenOff, err := s.Q.StatsWrittenOff(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reserve, err := s.Q.StatsAccountBalance(ctx, ledger.PlatformRiskReserve)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := statsResponse{
		AsOf: today.Format("2006-01-02"), CumulativeVolume: fmtMoney(vol.CumulativeVolume), OutstandingPrincipal: fmtMoney(outstanding),
		Borrowers: vol.Borrowers, Investors: vol.Investors, WrittenOff: fmtMoney(writtenOff), RiskReserveBalance: fmtMoney(reserve),
		OverdueByBucket: map[string]string{"M1": "0.00", "M2": "0.00", "M3": "0.00", "M3+": "0.00"},
	}
	overdue := decimal.Zero
	for _, b := range buckets {
		out.OverdueByBucket[b.Bucket] = fmtMoney(b.Amount)
		overdue = overdue.Add(b.Amount)
	}
	out.OverdueAmount = fmtMoney(overdue)
	out.M3PlusAmount = out.OverdueByBucket["M3+"]
	out.OverdueRate = "0.0000"
	if outstanding.Sign() > 0 {
		out.OverdueRate = overdue.DivRound(outstanding, 4).StringFixed(4)
	}
	writeJSON(w, http.StatusOK, out)
}
