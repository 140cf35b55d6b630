package clock

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/metrics"
)

// The clock watches itself (metrics.go's convention). An advance runs in the
// process that calls Advance: the API in sandbox mode, the worker on the wall
// clock.
var (
	// An advance is every loan handling every event up to its date: minutes
	// for a fleet, so the buckets reach far past LatencyBuckets' 30 s.
	advanceSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lendflow_clock_advance_seconds",
		Help:    "Clock advances, from the lock taken to every loan done (outcome ok or error).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"outcome"})
	stopsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "lendflow_clock_stops_total",
		Help: "Business dates an advance stopped at to tell the loans due then.",
	})
	loansTold = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "lendflow_clock_loans_told_total",
		Help: "Loans told of a date and answered (outcome ok), found already past it or closed (settled), or given up on (error).",
	}, []string{"outcome"})
	resends = promauto.NewCounter(prometheus.CounterOpts{
		Name: "lendflow_clock_update_resends_total",
		Help: "Advance-clock updates sent again because the first did not reach a run that answered.",
	})
	tellSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "lendflow_clock_tell_seconds",
		Help:    "One loan told of one date: from the update sent to its answer stored (the loan's step included).",
		Buckets: metrics.LatencyBuckets,
	})
	inFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "lendflow_clock_tells_in_flight",
		Help: "Loans being told of a date now (at most CLOCK_PARALLEL).",
	})
)
