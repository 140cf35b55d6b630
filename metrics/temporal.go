package metrics

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// Temporal is the Temporal SDK's own metrics (task polls and latencies,
// workflow and activity outcomes, request failures...) in the default
// registry, as a client.MetricsHandler to give to client.Dial.
//
// Why our own bridge rather than go.temporal.io/sdk/contrib/tally with tally's
// Prometheus reporter: that module is not reachable from where this project
// builds, and tally would be a second metrics library beside client_golang.
// The SDK's interface is three instruments and tags, so the bridge is small.
// One thing the bridge must handle that a plain *Vec cannot: the SDK emits
// one metric name with different tag sets (a poll has a task queue, a
// request may not), so each name-and-tags is a series of its own in one
// unchecked collector.
//
// Names follow Prometheus practice: counters end in _total, timers are
// histograms in seconds (temporal_activity_execution_latency_seconds).
// Every call shares one collector, registered once: two workers in one
// process add to the same series.
func Temporal() client.MetricsHandler {
	temporalOnce.Do(func() {
		temporalSeries = newSDKCollector()
		prometheus.MustRegister(temporalSeries)
	})
	return sdkHandler{c: temporalSeries}
}

var (
	temporalOnce   sync.Once
	temporalSeries *sdkCollector
)

// NewTemporalHandler is Temporal over a registry of the caller's (tests).
func NewTemporalHandler(reg prometheus.Registerer) client.MetricsHandler {
	c := newSDKCollector()
	reg.MustRegister(c)
	return sdkHandler{c: c}
}

type sdkCollector struct {
	mu     sync.Mutex
	series map[string]prometheus.Metric
}

func newSDKCollector() *sdkCollector {
	return &sdkCollector{series: map[string]prometheus.Metric{}}
}

// Describe sends nothing: the collector is unchecked, since its label sets
// are only known as the SDK emits them.
func (c *sdkCollector) Describe(chan<- *prometheus.Desc) {}

func (c *sdkCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	ms := slices.Collect(maps.Values(c.series))
	c.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
}

// get returns the series of name and tags, made by mk on first use.
func (c *sdkCollector) get(name string, tags map[string]string, mk func(name string, labels prometheus.Labels) prometheus.Metric) prometheus.Metric {
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteByte(0xff)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	key := b.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.series[key]; ok {
		return m
	}
	labels := make(prometheus.Labels, len(tags))
	for k, v := range tags {
		labels[sanitize(k)] = v
	}
	m := mk(name, labels)
	c.series[key] = m
	return m
}

type sdkHandler struct {
	c    *sdkCollector
	tags map[string]string
}

func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return sdkHandler{c: h.c, tags: merged}
}

func (h sdkHandler) Counter(name string) client.MetricsCounter {
	m := h.c.get(sanitize(name)+"_total", h.tags, func(n string, l prometheus.Labels) prometheus.Metric {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: "Temporal SDK counter " + name + ".", ConstLabels: l})
	}).(prometheus.Counter)
	return counterFunc(func(d int64) {
		if d > 0 {
			m.Add(float64(d))
		}
	})
}

func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	m := h.c.get(sanitize(name), h.tags, func(n string, l prometheus.Labels) prometheus.Metric {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: n, Help: "Temporal SDK gauge " + name + ".", ConstLabels: l})
	}).(prometheus.Gauge)
	return gaugeFunc(m.Set)
}

func (h sdkHandler) Timer(name string) client.MetricsTimer {
	m := h.c.get(sanitize(name)+"_seconds", h.tags, func(n string, l prometheus.Labels) prometheus.Metric {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: n, Help: "Temporal SDK timer " + name + ".", ConstLabels: l, Buckets: LatencyBuckets})
	}).(prometheus.Histogram)
	return timerFunc(func(d time.Duration) { m.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// sanitize keeps what a Prometheus name or label may hold.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}
