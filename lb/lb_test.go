package lb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testwait"
)

// replica is a stand-in API replica: it counts the requests it was sent and
// answers /readyz with its readiness.
type replica struct {
	name     string
	srv      *httptest.Server
	ready    atomic.Bool
	requests atomic.Int64
	// hold, when set, keeps a request to /slow waiting until it is closed.
	hold chan struct{}
	seen chan struct{} // a /slow request arrived
	mu   sync.Mutex
	xff  []string
}

func newReplica(t *testing.T, name string) *replica {
	r := &replica{name: name, hold: make(chan struct{}), seen: make(chan struct{}, 8)}
	r.ready.Store(true)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case HealthPath:
			if !r.ready.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		case "/slow":
			r.requests.Add(1)
			r.seen <- struct{}{}
			<-r.hold
		case "/drop":
			// Takes the request, then dies before answering.
			r.requests.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		default:
			r.requests.Add(1)
		}
		r.mu.Lock()
		r.xff = append(r.xff, req.Header.Get("X-Forwarded-For"))
		r.mu.Unlock()
		_, _ = io.WriteString(w, r.name)
	}))
	t.Cleanup(func() {
		select {
		case <-r.hold:
		default:
			close(r.hold)
		}
		r.srv.Close()
	})
	return r
}

func (r *replica) url(t *testing.T) *url.URL {
	u, err := url.Parse(r.srv.URL)
	require.NoError(t, err)
	return u
}

// balancer runs a Balancer over the replicas, behind a real listener, and
// waits until want of them are ready.
func balancer(t *testing.T, want int, rs ...*replica) (*Balancer, string) {
	var urls []*url.URL
	for _, r := range rs {
		urls = append(urls, r.url(t))
	}
	b := New(urls, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.Run(ctx)
	front := httptest.NewServer(b)
	t.Cleanup(front.Close)
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(t, fmt.Sprintf("%d backends ready", want), func() bool { return b.Ready() == want })
	return b, front.URL
}

func get(t *testing.T, u string) (int, string) {
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Requests go round the replicas, and each learns the client's address.
func TestRequestsGoRoundTheReplicas(t *testing.T) {
	a, b := newReplica(t, "a"), newReplica(t, "b")
	_, front := balancer(t, 2, a, b)
	got := map[string]int{}
	for range 10 {
		status, body := get(t, front+"/v1/clock")
		require.Equal(t, http.StatusOK, status)
		got[body]++
	}
	assert.Equal(t, map[string]int{"a": 5, "b": 5}, got)
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Equal(t, "127.0.0.1", a.xff[0], "X-Forwarded-For names the client")
}

// A replica busy with a slow request is passed over for the next one.
func TestFewestInFlightFirst(t *testing.T) {
	a, b := newReplica(t, "a"), newReplica(t, "b")
	_, front := balancer(t, 2, a, b)
	done := make(chan string)
	go func() { _, body := get(t, front+"/slow"); done <- body }()
	var slow *replica
	select {
	case <-a.seen:
		slow = a
	case <-b.seen:
		slow = b
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request reached no replica")
	}
	for range 4 {
		_, body := get(t, front+"/v1/clock")
		assert.NotEqual(t, slow.name, body, "the busy replica was chosen while the other was idle")
	}
	close(slow.hold)
	assert.Equal(t, slow.name, <-done)
}

// A replica that is gone costs one request a 502 (problem+json, code
// unavailable) and is passed over from the next request on, before any
// health check has run again.
func TestDeadReplicaIsPassedOverAtOnce(t *testing.T) {
	a, b := newReplica(t, "a"), newReplica(t, "b")
	bl, front := balancer(t, 2, a, b)
	// a's address now refuses connections.
	a.srv.Close()
	statuses := map[int]int{}
	for range 6 {
		status, body := get(t, front+"/v1/clock")
		statuses[status]++
		if status == http.StatusBadGateway {
			var p map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &p))
			assert.Equal(t, errs.Unavailable, p["code"])
			assert.Equal(t, float64(http.StatusBadGateway), p["status"])
		} else {
			assert.Equal(t, "b", body)
		}
	}
	assert.LessOrEqual(t, statuses[http.StatusBadGateway], 1, "%v", statuses)
	assert.Equal(t, 1, bl.Ready())
}

// A request the replica took and then died on is answered 502 and is never
// sent to another replica: only the client, under its Idempotency-Key, may
// send it again.
func TestNoRequestIsSentTwice(t *testing.T) {
	a, b := newReplica(t, "a"), newReplica(t, "b")
	_, front := balancer(t, 2, a, b)
	for range 4 {
		req, err := http.NewRequest(http.MethodPost, front+"/drop", strings.NewReader(`{"amount":"100.00"}`))
		require.NoError(t, err)
		req.Header.Set("Idempotency-Key", "k1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	}
	assert.Equal(t, int64(4), a.requests.Load()+b.requests.Load(), "each POST reached one replica once")
}

// While no replica is ready (a dependency they share is down), requests
// still go to the replicas that answer; a ready replica is preferred.
func TestNotReadyReplicasServeOnlyWhenNoneIsReady(t *testing.T) {
	a, b := newReplica(t, "a"), newReplica(t, "b")
	a.ready.Store(false)
	bl, front := balancer(t, 1, a, b)
	for range 4 {
		_, body := get(t, front+"/v1/clock")
		assert.Equal(t, "b", body)
	}
	b.ready.Store(false)
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(t, "no backend ready", func() bool { return bl.Ready() == 0 })
	got := map[string]int{}
	for range 4 {
		status, body := get(t, front+"/v1/clock")
		require.Equal(t, http.StatusOK, status)
		got[body]++
	}
	assert.Equal(t, map[string]int{"a": 2, "b": 2}, got)
}

// With no replica answering, the balancer answers 503 itself.
func TestNoReplicaAnswers503(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	b := New([]*url.URL{u}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/clock", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, errs.Unavailable, p["code"])
}

// A client's own X-Forwarded-For is kept and the address the balancer saw
// goes on its end: the API believes only the hops right of the last proxy it
// trusts (api clientAddr), so the client's part is there to be ignored, and a
// proxy in front of this one keeps its hops.
func TestForwardedForAppendsThePeer(t *testing.T) {
	a := newReplica(t, "a")
	_, front := balancer(t, 1, a)
	req, err := http.NewRequest("GET", front+"/v1/clock", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Equal(t, []string{"203.0.113.7, 127.0.0.1"}, a.xff)
}
