package api

import "github.com/lendflow/lendflow/metrics"

// httpMetrics are the API's request counts and latencies by route and status
// (lendflow_api_http_requests_total, lendflow_api_http_request_duration_seconds),
// served with the rest of the process's metrics at GET /metrics.
var httpMetrics = metrics.NewHTTP("api")
