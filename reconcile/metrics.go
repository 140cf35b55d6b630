package reconcile

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Reconciliation watches itself (metrics.go's convention): an alert on
// either counter's increase is how a person learns a day needs them.
var (
	mismatchedDays = promauto.NewCounter(prometheus.CounterOpts{
		Name: "lendflow_reconcile_mismatched_days_total",
		Help: "Business days whose close found the bank's file and the ledger differing, or the ledger not conserving money; each close of such a day counts once.",
	})
	conservationFailures = promauto.NewCounter(prometheus.CounterOpts{
		Name: "lendflow_reconcile_conservation_failures_total",
		Help: "Closes whose audit of the whole ledger (ledger.CheckConservation) found money appearing or vanishing.",
	})
)
