package bank

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/metrics"
)

// Bank calls as the platform sees them, by operation (freeze, batch, query,
// ...) and outcome: ok (2xx), refused (the bank's 4xx: final for that
// request number), unavailable (5xx, 408, 429: retried with the same number)
// or error (no answer: transport failure or timeout, outcome unknown).
var (
	bankCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lendflow", Subsystem: "bank", Name: "calls_total",
		Help: "Calls to the custody bank, by operation and outcome (ok, refused, unavailable, error).",
	}, []string{"operation", "outcome"})
	bankCallDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "lendflow", Subsystem: "bank", Name: "call_duration_seconds",
		Help:    "Round trip of one bank call, request sent to answer read, by operation and outcome.",
		Buckets: metrics.LatencyBuckets,
	}, []string{"operation", "outcome"})
)

// Outcomes of a bank call.
const (
	OutcomeOK          = "ok"
	OutcomeRefused     = "refused"
	OutcomeUnavailable = "unavailable"
	OutcomeError       = "error"
)

// instrumented is hc with a transport that records every call. The caller's
// client is copied, not changed.
func instrumented(hc *http.Client) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = measuredTransport{next: next}
	return &c
}

type measuredTransport struct{ next http.RoundTripper }

func (t measuredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req.Method, req.URL.Path)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		observeCall(op, OutcomeError, start)
		return nil, err
	}
	outcome := OutcomeOK
	switch s := resp.StatusCode; {
	case s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests:
		outcome = OutcomeUnavailable
	case s >= 400:
		outcome = OutcomeRefused
	}
	// The round trip ends when the answer has been read, not at its headers.
	resp.Body = &measuredBody{ReadCloser: resp.Body, done: func(readErr bool) {
		if readErr {
			outcome = OutcomeError
		}
		observeCall(op, outcome, start)
	}}
	return resp, nil
}

func observeCall(op, outcome string, start time.Time) {
	bankCalls.WithLabelValues(op, outcome).Inc()
	bankCallDuration.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

// measuredBody reports once, at EOF, a read error or Close, whichever is first.
type measuredBody struct {
	io.ReadCloser
	once sync.Once
	done func(readErr bool)
}

func (b *measuredBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(func() { b.done(err != io.EOF) })
	}
	return n, err
}

func (b *measuredBody) Close() error {
	b.once.Do(func() { b.done(false) })
	return b.ReadCloser.Close()
}

// Operation names a bank call by its method and path (the HTTPClient method
// that makes it), never by the request number or account in the path.
func Operation(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	// A base URL with a path prefix: the bank's own path starts at a known word.
	for i, s := range segs {
		if _, ok := operations[s]; ok {
			segs = segs[i:]
			break
		}
	}
	first := segs[0]
	if first == "admin" && len(segs) > 1 {
		first = "admin/" + segs[1]
	}
	byMethod, ok := operations[first]
	if !ok {
		return "other"
	}
	if op, ok := byMethod[method]; ok {
		return op
	}
	return "other"
}

var operations = map[string]map[string]string{
	"accounts":          {http.MethodPost: "open_account", http.MethodGet: "balance"},
	"cards":             {http.MethodPost: "change_card"},
	"recharges":         {http.MethodPost: "recharge"},
	"withdrawals":       {http.MethodPost: "withdraw"},
	"freezes":           {http.MethodPost: "freeze"},
	"unfreezes":         {http.MethodPost: "unfreeze"},
	"transfers":         {http.MethodPost: "transfer"},
	"batches":           {http.MethodPost: "batch"},
	"top-ups":           {http.MethodPost: "top_up"},
	"requests":          {http.MethodGet: "query"},
	"reconciliation":    {http.MethodGet: "reconciliation"},
	"admin":             {},
	"admin/clock":       {http.MethodGet: "clock", http.MethodPost: "set_clock"},
	"admin/faults":      {http.MethodGet: "faults", http.MethodPut: "set_faults"},
	"admin/deposits":    {http.MethodPost: "deposit"},
	"admin/withdrawals": {http.MethodPost: "reverse_withdrawal"},
}
