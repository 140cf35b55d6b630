package replica

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The replicas watch themselves (metrics.go's convention).
var (
	live = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lendflow_replicas_live",
		Help: "Replicas of this process's kind alive at its last lease renewal, itself included.",
	}, []string{"kind"})
	jobRounds = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "lendflow_job_rounds_total",
		Help: "Rounds of a background job this process ran (outcome ran) or left to another process holding it (skipped).",
	}, []string{"job", "outcome"})
)
