package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lendflow/lendflow/errs"
)

// limiter is a token bucket per caller: the bearer token when there is one,
// else the client address. It protects the API (and the bank behind it) from
// one runaway client; it is per process, which is enough for that.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens a second
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(perSecond, burst int) *limiter {
	return &limiter{rate: float64(perSecond), burst: float64(burst), buckets: map[string]*bucket{}, now: time.Now}
}

// allow takes a token for key, or says how long until one is there.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 {
			l.buckets = map[string]*bucket{} // forget idle callers rather than grow without bound
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens += now.Sub(b.at).Seconds() * l.rate
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Authorization")
		if key == "" {
			key, _, _ = net.SplitHostPort(r.RemoteAddr)
		}
		if ok, wait := s.limits.allow(key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			s.writeError(w, r, errs.New(errs.RateLimited, "too many requests; retry after %s", wait.Round(time.Millisecond)))
			return
		}
		next.ServeHTTP(w, r)
	})
}
