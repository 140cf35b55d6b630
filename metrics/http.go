package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// LatencyBuckets are the histogram buckets, in seconds, of every latency the
// platform measures: from a millisecond (a cached read) to half a minute (a
// bank call at its timeout).
var LatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// HTTP counts and times the requests one chi router serves.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP declares lendflow_<subsystem>_http_requests_total and
// lendflow_<subsystem>_http_request_duration_seconds, by method, route and
// status, in the default registry. The package that owns the router calls it
// once (api, bank/sim).
func NewHTTP(subsystem string) *HTTP {
	labels := []string{"method", "route", "status"}
	return &HTTP{
		requests: promauto.NewCounterVec(prometheus.CounterOpts{
			Namespace: "lendflow", Subsystem: subsystem, Name: "http_requests_total",
			Help: "HTTP requests answered, by method, chi route pattern and status.",
		}, labels),
		duration: promauto.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "lendflow", Subsystem: subsystem, Name: "http_request_duration_seconds",
			Help:    "Time from request to the handler's return, by method, chi route pattern and status.",
			Buckets: LatencyBuckets,
		}, labels),
	}
}

// Unmatched is the route label of a request no route matched: the raw path
// would make a series of every path anyone tries.
const Unmatched = "unmatched"

// Middleware records each request under its chi route pattern
// (/v1/loans/{id}), never the raw path, so there is one series per route,
// not one per loan. Mount it on the router itself (r.Use), where the pattern
// is complete once the handler returns.
func (h *HTTP) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			status := ww.Status()
			if status == 0 {
				// Nothing written: net/http answers 200.
				status = http.StatusOK
			}
			l := prometheus.Labels{"method": r.Method, "route": RoutePattern(r), "status": strconv.Itoa(status)}
			h.requests.With(l).Inc()
			h.duration.With(l).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(ww, r)
	})
}

// RoutePattern is the chi route pattern r matched, or Unmatched.
func RoutePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" && p != "/*" {
			return p
		}
	}
	return Unmatched
}
