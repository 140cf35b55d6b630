package ledger

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// postingsWritten counts postings Post wrote, by entry type. A replay of a
// recorded entry writes none; a transaction rolled back after Post still
// counted its postings, so the figure is work done, and the books
// (CheckConservation) remain the truth of what holds.
var postingsWritten = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "lendflow", Subsystem: "ledger", Name: "postings_total",
	Help: "Ledger postings written, by entry type (replays write none).",
}, []string{"type"})
