package sim

import "github.com/lendflow/lendflow/metrics"

// httpMetrics are the simulator's request counts and latencies by route and
// status (lendflow_banksim_http_requests_total,
// lendflow_banksim_http_request_duration_seconds): the bank's side of the
// platform's lendflow_bank_call_duration_seconds, so the two can be told apart.
var httpMetrics = metrics.NewHTTP("banksim")
