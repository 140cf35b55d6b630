package events

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/metrics"
)

// The webhooks' deliveries as the worker makes them (docs/observability.md).
var (
	deliveries = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lendflow", Subsystem: "events", Name: "webhook_attempts_total",
		Help: "Webhook delivery attempts, by outcome: delivered (a 2xx), retry (due again by the backoff schedule), given_up.",
	}, []string{"outcome"})
	deliverySeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "lendflow", Subsystem: "events", Name: "webhook_attempt_duration_seconds",
		Help: "Time from a delivery's request to its answer, or to its failure.", Buckets: metrics.LatencyBuckets,
	})
	numbered = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "lendflow", Subsystem: "events", Name: "numbered_total",
		Help: "Events given their feed id by this process (the worker, or the API reading the feed).",
	})
)
