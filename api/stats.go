package api

import (
	"net/http"

	"github.com/lendflow/lendflow/disclosure"
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
	// OverdueRateByBucket is each bucket's overdue amount / outstanding
	// principal, 4 places (docs/api.md "Endpoints").
	OverdueRateByBucket map[string]string `json:"overdue_rate_by_bucket"`
	M3PlusAmount        string            `json:"m3_plus_amount"`
	WrittenOff          string            `json:"written_off"`
	RiskReserveBalance  string            `json:"risk_reserve_balance"`
	// Debt transfer: claims sold to date, the prices paid, the sellers' fees.
	TransfersSold  int64  `json:"transfers_sold"`
	TransferVolume string `json:"transfer_volume"`
	TransferFees   string `json:"transfer_fees"`
}

// stats publishes the platform's operating figures (信息披露, docs/rules.md "Disclosure").
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	f, err := s.disclosure.Now(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statsBody(f))
}

// statsBody is the figures as the API publishes them.
func statsBody(f disclosure.Figures) statsResponse {
	out := statsResponse{
		AsOf: f.AsOf.Format("2006-01-02"), CumulativeVolume: fmtMoney(f.CumulativeVolume), OutstandingPrincipal: fmtMoney(f.OutstandingPrincipal),
		Borrowers: f.Borrowers, Investors: f.Investors, WrittenOff: fmtMoney(f.WrittenOff), RiskReserveBalance: fmtMoney(f.RiskReserveBalance),
		OverdueByBucket: map[string]string{}, OverdueRateByBucket: map[string]string{},
		TransfersSold: f.TransfersSold, TransferVolume: fmtMoney(f.TransferVolume), TransferFees: fmtMoney(f.TransferFees),
	}
	for _, b := range disclosure.Buckets {
		out.OverdueByBucket[b] = fmtMoney(f.OverdueByBucket[b])
		out.OverdueRateByBucket[b] = f.Rate(f.OverdueByBucket[b]).StringFixed(4)
	}
	overdue := f.Overdue()
	out.OverdueAmount = fmtMoney(overdue)
	out.OverdueRate = f.Rate(overdue).StringFixed(4)
	out.M3PlusAmount = out.OverdueByBucket[disclosure.M3Plus]
	return out
}
