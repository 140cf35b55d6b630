package events

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// A webhook URL is ops input that makes the platform send requests, from
// inside its network, wherever it points (server-side request forgery).
// Policy is what it may point at (docs/events.md "Which URLs"): http or
// https, no credentials in it, and a host whose every address is public;
// loopback, private, link-local (the clouds' metadata service at
// 169.254.169.254), shared, multicast and reserved addresses are refused,
// unless the operator allows a network (WEBHOOK_ALLOW_NETS). The address is
// judged when the connection is made, not only at registration, so a name
// that resolves to a public address at registration and a private one later
// (DNS rebinding) is refused too.
type Policy struct {
	// Allow are networks allowed although not public: a receiver inside the
	// platform's own network, or the tests' on 127.0.0.1.
	Allow []netip.Prefix
}

// Nets not public beyond what netip's predicates say: "this network",
// shared address space (RFC 6598), IETF protocol assignments, benchmarking,
// and the reserved class E with the broadcast address.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Allowed reports whether a connection to a may be made.
func (p Policy) Allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.Allow {
		if n.Contains(a) {
			return true
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, n := range notPublic {
		if n.Contains(a) {
			return false
		}
	}
	return true
}

// CheckURL refuses a URL a webhook may not have, saying why.
func (p Policy) CheckURL(raw string) error {
	if len(raw) > 2000 {
		return errors.New("at most 2000 bytes")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("http or https only")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("no credentials in the URL: verify the signature instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("no fragment")
	}
	host := strings.ToLower(u.Hostname())
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.Allowed(a) {
			return fmt.Errorf("%s is not a public address", a)
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		if !p.Allowed(netip.MustParseAddr("127.0.0.1")) {
			return errors.New("localhost is not a public address")
		}
	}
	return nil
}

// Client is the HTTP client deliveries go out on: every connection's
// address is judged by the policy as it is dialled, no proxy from the
// environment (it would dial for us), no redirect followed (a 3xx is an
// answer, not a 2xx), and timeout for the whole request.
func (p Policy) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !p.Allowed(a) {
			return fmt.Errorf("%w: %s", ErrAddressRefused, host)
		}
		return nil
	}}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: timeout,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ErrAddressRefused: the webhook's host resolved to an address the policy
// refuses.
var ErrAddressRefused = errors.New("events: the webhook's address is not public")

// ParseNets reads WEBHOOK_ALLOW_NETS: networks (CIDR) or addresses,
// separated by commas.
func ParseNets(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a network (10.0.0.0/8) nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
