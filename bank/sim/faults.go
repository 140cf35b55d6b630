package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultConfig makes the bank misbehave on purpose. Each rate is a probability
// from 0 to 1; each decision is drawn from Config.Seed and the request number
// (and how many times that number was seen), never from the order goroutines
// happen to run in, so a failing run replays under the same seed.
//
// Whatever fires, a request number's work happens at most once and money is
// neither created nor lost: the faults only change what the caller hears, and
// when.
type FaultConfig struct {
	// Latency delays a request by LatencyDuration before the bank looks at it.
	// The caller may give up meanwhile; the request still happens.
	Latency         float64
	LatencyDuration time.Duration // default 300ms

	// ErrorBefore answers 503 without doing anything.
	ErrorBefore float64
	// ErrorAfter does the work, commits it, then answers 500.
	ErrorAfter float64
	// TimeoutAfter does the work, commits it, then holds the answer for
	// TimeoutDuration (the caller's timeout should fire first) and answers 504.
	TimeoutAfter    float64
	TimeoutDuration time.Duration // default 5s

	// CallbackDrop never sends a callback: the platform must query.
	CallbackDrop float64
	// CallbackDelay sends a callback CallbackDelayDuration late.
	CallbackDelay         float64
	CallbackDelayDuration time.Duration // default 2s
	// CallbackDuplicate sends a callback twice.
	CallbackDuplicate float64
	// CallbackReorder holds a callback back for ReorderHold and lets the later
	// callbacks of its request overtake it (a reversal before its success).
	CallbackReorder float64
	ReorderHold     time.Duration // default 1s

	// BatchFail fails a batch as a whole (batch_failed): nothing moves and the
	// freezes stay; the platform retries with a new batch number.
	BatchFail float64
	// WithdrawalReversal reverses (冲正) a succeeded withdrawal on the next
	// business day, as a reconciliation file would.
	WithdrawalReversal float64
}

// Fault defaults apply where a rate is set and its duration is not.
const (
	DefaultLatency       = 300 * time.Millisecond
	DefaultTimeout       = 5 * time.Second
	DefaultCallbackDelay = 2 * time.Second
	DefaultReorderHold   = time.Second
)

// faultJSON is FaultConfig on the wire (PUT /admin/faults): snake_case names
// and durations as Go duration strings ("250ms").
type faultJSON struct {
	Latency               float64 `json:"latency"`
	LatencyDuration       string  `json:"latency_duration,omitempty"`
	ErrorBefore           float64 `json:"error_before"`
	ErrorAfter            float64 `json:"error_after"`
	TimeoutAfter          float64 `json:"timeout_after"`
	TimeoutDuration       string  `json:"timeout_duration,omitempty"`
	CallbackDrop          float64 `json:"callback_drop"`
	CallbackDelay         float64 `json:"callback_delay"`
	CallbackDelayDuration string  `json:"callback_delay_duration,omitempty"`
	CallbackDuplicate     float64 `json:"callback_duplicate"`
	CallbackReorder       float64 `json:"callback_reorder"`
	ReorderHold           string  `json:"reorder_hold,omitempty"`
	BatchFail             float64 `json:"batch_fail"`
	WithdrawalReversal    float64 `json:"withdrawal_reversal"`
}

func (f FaultConfig) MarshalJSON() ([]byte, error) {
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return json.Marshal(faultJSON{
		Latency: f.Latency, LatencyDuration: dur(f.LatencyDuration),
		ErrorBefore: f.ErrorBefore, ErrorAfter: f.ErrorAfter,
		TimeoutAfter: f.TimeoutAfter, TimeoutDuration: dur(f.TimeoutDuration),
		CallbackDrop: f.CallbackDrop, CallbackDelay: f.CallbackDelay, CallbackDelayDuration: dur(f.CallbackDelayDuration),
		CallbackDuplicate: f.CallbackDuplicate, CallbackReorder: f.CallbackReorder, ReorderHold: dur(f.ReorderHold),
		BatchFail: f.BatchFail, WithdrawalReversal: f.WithdrawalReversal,
	})
}

func (f *FaultConfig) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	// A misspelt fault name would otherwise switch nothing on, silently.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	var err error
	dur := func(name, s string) time.Duration {
		if s == "" || err != nil {
			return 0
		}
		d, perr := time.ParseDuration(s)
		if perr != nil {
			err = fmt.Errorf("%s: %w", name, perr)
		}
		return d
	}
	*f = FaultConfig{
		Latency: j.Latency, LatencyDuration: dur("latency_duration", j.LatencyDuration),
		ErrorBefore: j.ErrorBefore, ErrorAfter: j.ErrorAfter,
		TimeoutAfter: j.TimeoutAfter, TimeoutDuration: dur("timeout_duration", j.TimeoutDuration),
		CallbackDrop: j.CallbackDrop, CallbackDelay: j.CallbackDelay,
		CallbackDelayDuration: dur("callback_delay_duration", j.CallbackDelayDuration),
		CallbackDuplicate:     j.CallbackDuplicate, CallbackReorder: j.CallbackReorder,
		ReorderHold: dur("reorder_hold", j.ReorderHold),
		BatchFail:   j.BatchFail, WithdrawalReversal: j.WithdrawalReversal,
	}
	if err != nil {
		return err
	}
	return f.validate()
}

func (f FaultConfig) validate() error {
	for name, r := range map[string]float64{
		"latency": f.Latency, "error_before": f.ErrorBefore, "error_after": f.ErrorAfter,
		"timeout_after": f.TimeoutAfter, "callback_drop": f.CallbackDrop, "callback_delay": f.CallbackDelay,
		"callback_duplicate": f.CallbackDuplicate, "callback_reorder": f.CallbackReorder,
		"batch_fail": f.BatchFail, "withdrawal_reversal": f.WithdrawalReversal,
	} {
		if r < 0 || r > 1 {
			return fmt.Errorf("%s: rate %v is not within 0..1", name, r)
		}
	}
	for name, d := range map[string]time.Duration{
		"latency_duration": f.LatencyDuration, "timeout_duration": f.TimeoutDuration,
		"callback_delay_duration": f.CallbackDelayDuration, "reorder_hold": f.ReorderHold,
	} {
		if d < 0 {
			return fmt.Errorf("%s: negative duration", name)
		}
	}
	return nil
}

func (f FaultConfig) withDefaults() FaultConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&f.LatencyDuration, DefaultLatency)
	def(&f.TimeoutDuration, DefaultTimeout)
	def(&f.CallbackDelayDuration, DefaultCallbackDelay)
	def(&f.ReorderHold, DefaultReorderHold)
	return f
}

// Fault points: the names decisions are keyed by.
const (
	pointLatency      = "latency"
	pointErrorBefore  = "error_before"
	pointErrorAfter   = "error_after"
	pointTimeoutAfter = "timeout_after"
	pointCbDrop       = "callback_drop"
	pointCbDelay      = "callback_delay"
	pointCbDuplicate  = "callback_duplicate"
	pointCbReorder    = "callback_reorder"
	pointBatchFail    = "batch_fail"
	pointReversal     = "withdrawal_reversal"
)

// faults decides. The decision for the n-th time a key reaches a point is a
// pure function of (seed, point, key, n): goroutine scheduling cannot change
// it, and a caller's retry (n+1) gets a fresh draw instead of the same failure
// forever.
type faults struct {
	seed uint64
	mu   sync.Mutex
	cfg  FaultConfig
	seen map[string]int
}

func newFaults(seed int64, cfg FaultConfig) *faults {
	return &faults{seed: uint64(seed), cfg: cfg.withDefaults(), seen: map[string]int{}}
}

func (f *faults) set(cfg FaultConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg.withDefaults()
}

func (f *faults) get() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// hit draws for the next occurrence of key at point under rate.
func (f *faults) hit(rate float64, point, key string) bool {
	if rate <= 0 {
		return false
	}
	f.mu.Lock()
	n := f.seen[point+"\x00"+key]
	f.seen[point+"\x00"+key] = n + 1
	f.mu.Unlock()
	if rate >= 1 {
		return true
	}
	h := fnv.New64a()
	io.WriteString(h, point+"\x00"+key+"\x00"+strconv.Itoa(n)) //nolint:errcheck
	return rand.New(rand.NewPCG(f.seed, h.Sum64())).Float64() < rate
}

// faultMiddleware applies the request-level faults around the API handlers.
// A request is keyed by its request number when its body has one, by method
// and path otherwise (queries).
func (s *Sim) faultMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := s.faults.get()
		key := r.Method + " " + r.URL.Path
		if r.Body != nil && r.Method != http.MethodGet {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
			if err != nil {
				writeError(w, http.StatusBadRequest, codeInvalidRequest, "read body: "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var head struct {
				RequestNo string `json:"request_no"`
			}
			if json.Unmarshal(body, &head) == nil && head.RequestNo != "" {
				key = head.RequestNo
			}
		}
		if s.faults.hit(cfg.Latency, pointLatency, key) {
			select {
			case <-time.After(cfg.LatencyDuration):
			case <-r.Context().Done():
				// The caller gave up, but a real bank would still process what
				// reached it: carry on, detached from the caller.
			}
		}
		if s.faults.hit(cfg.ErrorBefore, pointErrorBefore, key) {
			writeError(w, http.StatusServiceUnavailable, "fault_before_work", "simulated outage: nothing was done")
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status < 500 {
			if s.faults.hit(cfg.ErrorAfter, pointErrorAfter, key) {
				writeError(w, http.StatusInternalServerError, "fault_after_work", "simulated outage after the work was done")
				return
			}
			if s.faults.hit(cfg.TimeoutAfter, pointTimeoutAfter, key) {
				select {
				case <-time.After(cfg.TimeoutDuration):
				case <-r.Context().Done():
				}
				writeError(w, http.StatusGatewayTimeout, "fault_timeout", "simulated timeout after the work was done")
				return
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// recorder holds a handler's answer so a fault can replace it after the work.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
