package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lb"
)

// Behind lendflow lb (docs/deployment.md "The shape") every request's TCP
// peer is the balancer. With the balancer among the trusted proxies each
// caller behind it keeps a rate-limit budget of its own, and what a caller
// writes in X-Forwarded-For itself buys nothing: the balancer appends the
// address it saw, and the API reads from the right. The callers here dial
// from 127.0.0.2 and 127.0.0.3; the balancer reaches the API from 127.0.0.1,
// the only trusted address.
func TestCallersBehindTheBalancerKeepTheirOwnAddress(t *testing.T) {
	s, srv := testServer(t)
	s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	s.limits = newLimiter(1, 2)
	frozen := time.Now()
	s.limits.now = func() time.Time { return frozen } // no token comes back during the test

	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	bal := lb.New([]*url.URL{u}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go bal.Run(ctx)
	front := httptest.NewServer(bal)
	t.Cleanup(front.Close)
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(t, "the API ready behind the balancer",
		func() bool { return bal.Ready() == 1 })

	from := func(local, base, xff string) int {
		t.Helper()
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		defer c.CloseIdleConnections()
		req, err := http.NewRequest("GET", base+"/v1/clock", nil)
		require.NoError(t, err)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	statuses := func(local, base, xff string) []int {
		var got []int
		for range 3 {
			got = append(got, from(local, base, xff))
		}
		return got
	}

	assert.Equal(t, []int{200, 200, 429}, statuses("127.0.0.2", front.URL, ""),
		"the first caller spends its own burst of 2")
	assert.Equal(t, []int{200, 200, 429}, statuses("127.0.0.3", front.URL, ""),
		"the second caller behind the same balancer has a budget of its own")
	assert.Equal(t, []int{429, 429, 429}, statuses("127.0.0.2", front.URL, "198.51.100.1"),
		"an address the caller writes in X-Forwarded-For buys no fresh budget through the balancer")
	assert.Equal(t, []int{429, 429, 429}, statuses("127.0.0.3", srv.URL, "198.51.100.2"),
		"nor straight to the API: from a peer not trusted the header is ignored")
	assert.Equal(t, []int{200, 200, 429}, statuses("127.0.0.4", srv.URL, "127.0.0.2"),
		"a caller not trusted is its own address, whatever it forges")
}

func TestClientAddrBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("2001:db8:ff::/48")}
	for _, c := range []struct{ remote, xff, want string }{
		{"10.0.0.5:1", "203.0.113.7", "203.0.113.7"},
		{"10.0.0.5:1", "198.51.100.9, 203.0.113.7", "203.0.113.7"},            // the client's own part is ignored
		{"10.0.0.5:1", "203.0.113.7, 10.0.0.9", "203.0.113.7"},                // two trusted hops
		{"10.0.0.5:1", "10.0.0.8, 10.0.0.9", "10.0.0.8"},                      // all trusted: the first
		{"10.0.0.5:1", "", "10.0.0.5"},                                        // no header: the peer
		{"10.0.0.5:1", "203.0.113.7, junk", "10.0.0.5"},                       // a bad hop: the last trusted
		{"10.0.0.5:1", "[2001:db8:1:2::7]:443", "2001:db8:1:2::/64"},          // with a port, by its /64
		{"[2001:db8:ff::1]:1", "::ffff:203.0.113.7", "203.0.113.7"},           // mapped
		{"192.0.2.1:1", "203.0.113.7", "192.0.2.1"},                           // the peer not trusted
		{"192.0.2.1:1", "10.0.0.5", "192.0.2.1"},                              // nor naming a trusted one
		{"[::ffff:10.0.0.5]:1", "203.0.113.7", "203.0.113.7"},                 // a mapped peer
		{"10.0.0.5:1", "203.0.113.7,198.51.100.9 , 10.0.0.2", "198.51.100.9"}, // spaces
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		assert.Equal(t, c.want, clientAddr(r, trusted), fmt.Sprintf("%s via %q", c.remote, c.xff))
	}
	// A proxy may add a line of its own instead of extending the last one.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:1"
	r.Header["X-Forwarded-For"] = []string{"198.51.100.9", "203.0.113.7, 10.0.0.6"}
	assert.Equal(t, "203.0.113.7", clientAddr(r, trusted))
}
