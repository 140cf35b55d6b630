package api

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lendflow/lendflow/errs"
)

// limiter is a token bucket per caller. It protects the API (and the bank
// behind it) from one runaway client (docs/security.md "Rate limits").
//
// The budget is the platform's, shared by the API's replicas: each replica
// keeps buckets of its share, rate and burst divided by the replicas alive
// (replicas, read from their leases in PostgreSQL at every renewal). Spread
// over every replica a caller gets the budget, never more; sent to one it
// gets that replica's share. So the shared budget costs no statement a
// request (docs/replicas.md "The rate limit").
//
// Memory is bounded: at most max buckets, and the one idle longest is
// forgotten to make room. Forgetting it gives that caller a full bucket
// again, which is what an idle caller's bucket holds anyway.
type limiter struct {
	mu    sync.Mutex
	rate  float64 // tokens a second, the whole platform's
	burst float64
	max   int
	// replicas is how many API replicas share the budget; nil: this process
	// alone (a server in no fleet).
	replicas func() int
	// lru holds *bucket, most recently used at the front; byKey finds them.
	lru   *list.List
	byKey map[string]*list.Element
	now   func() time.Time
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

// maxBuckets bounds the limiter's memory (about 100 bytes a caller).
const maxBuckets = 100_000

func newLimiter(perSecond, burst int) *limiter {
	return &limiter{rate: float64(perSecond), burst: float64(burst), max: maxBuckets,
		lru: list.New(), byKey: map[string]*list.Element{}, now: time.Now}
}

// share is this replica's part of the budget: at least one request of
// burst, however many replicas there are.
func (l *limiter) share() (rate, burst float64) {
	n := 1
	if l.replicas != nil {
		n = max(l.replicas(), 1)
	}
	return l.rate / float64(n), max(l.burst/float64(n), 1)
}

// allow takes a token for key, or says how long until one is there.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	rate, burst := l.share()
	var b *bucket
	if el, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
	} else {
		for l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			delete(l.byKey, oldest.Value.(*bucket).key)
			l.lru.Remove(oldest)
		}
		b = &bucket{key: key, tokens: burst, at: now}
		l.byKey[key] = l.lru.PushFront(b)
	}
	b.tokens += now.Sub(b.at).Seconds() * rate
	if b.tokens > burst {
		b.tokens = burst
	}
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// len is how many callers the limiter remembers.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// clientAddr is the address a request came from, as the throttles key it,
// an IPv6 address by its /64, the block one subscriber is given, so that
// rotating through it buys nothing.
//
// It is the TCP peer, unless that peer is a proxy in trusted (lendflow lb):
// then the peer only passes the request on, and the client is read from
// X-Forwarded-For, right to left, skipping the hops trusted proxies added:
// the first address no trusted proxy holds is the one the last trusted proxy
// saw connect. Everything left of it the client wrote, so it is never read;
// from a peer not trusted the header is the client's to forge and is ignored
// whole. A hop that is no address ends the walk at the last trusted one.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if isTrusted(ip, trusted) {
		hops := forwardedHops(r.Header.Values("X-Forwarded-For"))
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				break
			}
			ip = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedHops are X-Forwarded-For's addresses in order, over every line of
// the header (a proxy may add a line rather than extend the last).
func forwardedHops(lines []string) []string {
	var hops []string
	for _, l := range lines {
		for _, h := range strings.Split(l, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

// parseHop reads one hop: an address, or one with a port (1.2.3.4:5,
// [2001:db8::1]:5), as some proxies write it.
func parseHop(h string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// identity is what the identify middleware learned of the caller.
type identity struct {
	user *User // the signed-in caller; nil when anonymous or the token is no live session
}

type identityKey struct{}

// identify reads the bearer token, when there is one, once per request, and
// then charges the rate limiter: the signed-in user's bucket when the token
// is a live session, else the client address's. So a caller who sends a
// made-up token each time spends their address's budget, not a fresh one
// (the token is checked before it can name a bucket), and signed-in users
// behind one address do not share one. requireRole then authorizes from
// what was found here.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.lookup(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		key := "addr:" + clientAddr(r, s.TrustedProxies)
		if id.user != nil {
			key = "user:" + strconv.FormatInt(id.user.ID, 10)
		}
		if ok, wait := s.limits.allow(key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			s.writeError(w, r, errs.New(errs.RateLimited, "retry after %s", wait))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// lookup resolves the request's bearer token to its session's user.
func (s *Server) lookup(r *http.Request) (identity, error) {
	if id, ok := r.Context().Value(identityKey{}).(identity); ok {
		return id, nil
	}
	token, ok := bearer(r)
	if !ok || s.Pool == nil { // no token, or a router built without a database (route listing)
		return identity{}, nil
	}
	u, err := s.auth.Session(r.Context(), token)
	return identity{user: u}, err
}

// bearer is the request's bearer token (RFC 6750 §2.1), if it has one of a
// sane length: 64 hex characters are issued, and a longer one is nobody's.
func bearer(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" || len(token) > 256 {
		return "", false
	}
	return token, true
}
