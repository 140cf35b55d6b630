package contact

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/metrics"
)

// The outbox's delivery, as the worker sees it (docs/observability.md): a
// sender that fails shows as failures by outcome, retry or given_up, before
// anyone misses a notice.
var (
	noticesSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lendflow", Subsystem: "contact", Name: "notices_sent_total",
		Help: "Notices the sender accepted (an e-mail handed to the SMTP server), by kind.",
	}, []string{"kind"})
	sendFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lendflow", Subsystem: "contact", Name: "send_failures_total",
		Help: "Sends that failed, by kind and outcome: retry (due again by the backoff schedule) or given_up.",
	}, []string{"kind", "outcome"})
	sendSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "lendflow", Subsystem: "contact", Name: "send_duration_seconds",
		Help: "Time one send took, failed or not.", Buckets: metrics.LatencyBuckets,
	})
)
