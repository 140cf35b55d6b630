package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPMiddlewareLabelsByRoutePatternAndStatus(t *testing.T) {
	h := NewHTTP("metricstest")
	r := chi.NewRouter()
	r.Use(h.Middleware)
	r.Get("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		if chi.URLParam(r, "id") == "404" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	for _, p := range []string{"/things/1", "/things/2", "/things/404", "/nowhere/7"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	assert.Equal(t, 2.0, testutil.ToFloat64(h.requests.WithLabelValues("GET", "/things/{id}", "200")), "one series per route, not per id")
	assert.Equal(t, 1.0, testutil.ToFloat64(h.requests.WithLabelValues("GET", "/things/{id}", "404")))
	assert.Equal(t, 1.0, testutil.ToFloat64(h.requests.WithLabelValues("GET", Unmatched, "404")), "an unknown path is not a label value")
	assert.Equal(t, 3, testutil.CollectAndCount(h.requests))

	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	assert.Contains(t, body, `lendflow_metricstest_http_request_duration_seconds_count{method="GET",route="/things/{id}",status="200"} 2`)
	assert.Contains(t, body, "go_goroutines", "the Go runtime's collectors are served too")
}

func TestTemporalHandlerSeriesPerNameAndTags(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewTemporalHandler(reg)
	// The SDK emits one name with different tag sets; both must be served.
	h.WithTags(map[string]string{"namespace": "default", "task_queue": "lendflow"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(1)
	tagged := h.WithTags(map[string]string{"activity_type": "A"}).WithTags(map[string]string{"activity_type": "B", "worker-type": "ActivityWorker"})
	tagged.Timer("temporal_activity_execution_latency").Record(40 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(3)

	const want = `
# HELP temporal_request_total Temporal SDK counter temporal_request.
# TYPE temporal_request_total counter
temporal_request_total{namespace="default"} 2
temporal_request_total{namespace="default",task_queue="lendflow"} 2
# HELP temporal_num_pollers Temporal SDK gauge temporal_num_pollers.
# TYPE temporal_num_pollers gauge
temporal_num_pollers 3
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "temporal_request_total", "temporal_num_pollers"))
	fams, err := reg.Gather()
	require.NoError(t, err)
	var hist string
	for _, f := range fams {
		if f.GetName() == "temporal_activity_execution_latency_seconds" {
			m := f.GetMetric()[0]
			for _, lp := range m.GetLabel() {
				hist += lp.GetName() + "=" + lp.GetValue() + " "
			}
			assert.Equal(t, uint64(1), m.GetHistogram().GetSampleCount())
			assert.InDelta(t, 0.04, m.GetHistogram().GetSampleSum(), 1e-9)
		}
	}
	assert.Equal(t, "activity_type=B worker_type=ActivityWorker ", hist, "later tags win; names are sanitized")
}
