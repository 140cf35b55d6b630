// Package metrics is how each lendflow process shows its figures to
// Prometheus. The convention: the package that owns an event declares its own
// collectors with promauto in the default registry, named
// lendflow_<package>_<what>_<unit> (reconciliation mismatches in reconcile,
// bank calls in bank, ...), and every process serves them here at GET /metrics
// in the Prometheus text format.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the default registry: the process's own collectors plus the
// Go runtime's and the process's (memory, goroutines, file descriptors).
func Handler() http.Handler { return promhttp.Handler() }

// GroupSizeBuckets are the buckets of every group-commit size (bids admitted
// together, freezes booked together, the simulator's freezes): powers of two
// up to 64, the groups' cap.
var GroupSizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64}
