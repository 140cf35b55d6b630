// Package lb is the load balancer in front of the API replicas (`lendflow
// lb`): it sends each request to one replica that answers its health check,
// the one with the fewest requests in flight, and never sends a request
// twice. A replica that dies mid-request costs that request a 502; the client
// sends it again under its Idempotency-Key, which is what makes a second try
// safe (docs/idempotency.md), and the balancer has by then stopped choosing
// the dead replica. Retrying for the client here could run a POST twice on
// two replicas at once, each claiming the key in turn.
package lb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/errs"
)

// HealthPath is what each replica is asked every HealthEvery: the API's
// readiness (its database, Temporal and the bank answer). A replica that is
// ready is sent requests. One that answers not ready is sent requests only
// while no replica is ready: a dependency every replica shares (the bank)
// being down makes them all not ready at once, and then each request is
// better answered by a replica, with the refusal's own code, than by a 503
// from here. One that does not answer at all is sent nothing.
const (
	HealthPath    = "/readyz"
	HealthEvery   = time.Second
	healthTimeout = 3 * time.Second
)

// A replica's state, from its last health check or request.
const (
	down  int32 = iota // no answer: the process is gone or hung
	live               // answers, but not ready
	ready              // answers ready
)

var (
	stateGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lendflow_lb_backend_state",
		Help: "The replica's state by its last health check: 2 ready, 1 answering but not ready, 0 not answering.",
	}, []string{"backend"})
	forwarded = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "lendflow_lb_requests_total",
		Help: "Requests forwarded, by replica and outcome (the status class, or unreachable when the replica did not answer).",
	}, []string{"backend", "outcome"})
	refused = promauto.NewCounter(prometheus.CounterOpts{
		Name: "lendflow_lb_no_backend_total",
		Help: "Requests answered 503 because no replica was healthy.",
	})
)

type backend struct {
	url      *url.URL
	name     string
	state    atomic.Int32
	inflight atomic.Int64
}

// Balancer is the handler `lendflow lb` serves. Run checks the replicas'
// health; until its first round a replica counts as down.
type Balancer struct {
	backends []*backend
	proxy    *httputil.ReverseProxy
	check    *http.Client
	log      *slog.Logger
	turn     atomic.Uint64
}

type backendKey struct{}

// New balances over the replicas at backends (base URLs: http://host:port).
func New(backends []*url.URL, log *slog.Logger) *Balancer {
	b := &Balancer{log: log, check: &http.Client{Timeout: healthTimeout}}
	for _, u := range backends {
		be := &backend{url: u, name: u.Host}
		stateGauge.WithLabelValues(be.name).Set(0)
		b.backends = append(b.backends, be)
	}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			be := pr.In.Context().Value(backendKey{}).(*backend)
			pr.SetURL(be.url)
			// The client's address goes on the end of X-Forwarded-For, after
			// whatever hops a proxy in front of this one wrote: the API reads
			// it from the right, past the proxies it trusts (TRUSTED_PROXIES),
			// so what a client writes there itself is never believed.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		// Answers stream as they come (the console's pages, long clock advances).
		FlushInterval: -1,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
		ModifyResponse: func(resp *http.Response) error {
			be := resp.Request.Context().Value(backendKey{}).(*backend)
			forwarded.WithLabelValues(be.name, statusClass(resp.StatusCode)).Inc()
			return nil
		},
		ErrorHandler: b.failed,
	}
	return b
}

func statusClass(code int) string {
	return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[min(max(code/100, 1), 5)-1]
}

// ServeHTTP forwards r to the replica with the fewest requests in flight
// among the ready ones, else among those that answer (ties go round the
// replicas in turn), or answers 503 when none answers.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	be := b.pick()
	if be == nil {
		refused.Inc()
		writeProblem(w, http.StatusServiceUnavailable, "no API replica is ready; send the same request again shortly")
		return
	}
	be.inflight.Add(1)
	defer be.inflight.Add(-1)
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, be)))
}

func (b *Balancer) pick() *backend {
	n := len(b.backends)
	start := int(b.turn.Add(1) % uint64(n))
	var best *backend
	bestState := live
	for i := range n {
		be := b.backends[(start+i)%n]
		st := be.state.Load()
		if st < bestState {
			continue
		}
		if best == nil || st > bestState || be.inflight.Load() < best.inflight.Load() {
			best, bestState = be, st
		}
	}
	return best
}

// failed answers a request the replica did not answer. A replica that
// refused the connection or dropped it is marked down at once, so the
// requests after this one go elsewhere before the next health check.
func (b *Balancer) failed(w http.ResponseWriter, r *http.Request, err error) {
	be := r.Context().Value(backendKey{}).(*backend)
	if r.Context().Err() != nil {
		// The client left; nobody reads an answer.
		return
	}
	forwarded.WithLabelValues(be.name, "unreachable").Inc()
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		b.set(be, down, err)
	}
	b.log.Warn("replica did not answer", "backend", be.name, "method", r.Method, "path", r.URL.Path, "error", err)
	writeProblem(w, http.StatusBadGateway, "the API replica did not answer; send the same request again with the same Idempotency-Key")
}

// writeProblem answers as the API answers a failure it cannot help
// (docs/api.md "Errors"): problem+json, code unavailable, safe to send again.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://lendflow.dev/problems/" + errs.Unavailable, "title": http.StatusText(status),
		"status": status, "detail": detail, "code": errs.Unavailable,
	})
}

// Run checks every replica's health each HealthEvery until ctx ends, the
// first round at once.
func (b *Balancer) Run(ctx context.Context) {
	t := time.NewTicker(HealthEvery)
	defer t.Stop()
	for {
		for _, be := range b.backends {
			go b.probe(ctx, be)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Balancer) probe(ctx context.Context, be *backend) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, be.url.JoinPath(HealthPath).String(), nil)
	if err != nil {
		return
	}
	resp, err := b.check.Do(req)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		b.set(be, down, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.set(be, live, errors.New(resp.Status))
		return
	}
	b.set(be, ready, nil)
}

var stateNames = [...]string{down: "down", live: "not ready", ready: "ready"}

func (b *Balancer) set(be *backend, st int32, cause error) {
	if be.state.Swap(st) == st {
		return
	}
	stateGauge.WithLabelValues(be.name).Set(float64(st))
	if st == ready {
		b.log.Info("replica "+stateNames[st], "backend", be.name)
	} else {
		b.log.Warn("replica "+stateNames[st], "backend", be.name, "error", cause)
	}
}

// Ready is how many replicas answered their last health check ready.
func (b *Balancer) Ready() int {
	n := 0
	for _, be := range b.backends {
		if be.state.Load() == ready {
			n++
		}
	}
	return n
}
