package api

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Behind lendflow lb (docs/deployment.md "The shape"), or any proxy, every
// request's TCP peer is the balancer, so clientAddr gives every anonymous
// caller the same address: registration, sign-in throttling by address and
// the anonymous rate limit would then treat all of them as one client. The
// balancer sets X-Forwarded-For; the API should believe it from the proxies
// it is told to trust (and only from them: from anyone else it is forged).
// Known and not fixed here (issue 18's production shape found it): skipped
// until the API has its trusted proxies.
func TestCallersBehindTheBalancerKeepTheirOwnAddress(t *testing.T) {
	t.Skip("known: clientAddr keys by the TCP peer, the balancer's for every caller behind it; needs trusted proxies for X-Forwarded-For")
	a := httptest.NewRequest("POST", "/v1/auth/login", nil)
	a.RemoteAddr, a.Header["X-Forwarded-For"] = "127.0.0.1:40001", []string{"203.0.113.7"}
	b := httptest.NewRequest("POST", "/v1/auth/login", nil)
	b.RemoteAddr, b.Header["X-Forwarded-For"] = "127.0.0.1:40002", []string{"198.51.100.9"}
	assert.NotEqual(t, clientAddr(a), clientAddr(b), "two callers behind the balancer")
}
