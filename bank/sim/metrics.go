package sim

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/metrics"
)

// httpMetrics are the simulator's request counts and latencies by route and
// status (lendflow_banksim_http_requests_total,
// lendflow_banksim_http_request_duration_seconds): the bank's side of the
// platform's lendflow_bank_call_duration_seconds, so the two can be told apart.
var httpMetrics = metrics.NewHTTP("banksim")

// freezeGroupSize is how many freezes each group's transaction carried
// (freeze.go): 1 while freezes come one at a time.
var freezeGroupSize = promauto.NewHistogram(prometheus.HistogramOpts{
	Name:    "lendflow_banksim_freeze_group_size",
	Help:    "Freezes applied together in one transaction by the bank simulator.",
	Buckets: metrics.GroupSizeBuckets,
})
