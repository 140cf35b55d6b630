package app

import (
	"fmt"
	"net"
	"strings"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// temporalFrontends splits TEMPORAL_ADDRESS into its frontends' host:port.
func temporalFrontends(addr string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(addr, ",") {
		a = strings.TrimSpace(a)
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("TEMPORAL_ADDRESS: %q is not host:port", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// temporalConnection is how the client reaches the frontends: one address
// as it is; several through a resolver that hands gRPC all of them, so the
// SDK's round-robin balancing spreads calls over every frontend and passes
// over one that is down (a Temporal node lost, docs/deployment.md). A load
// balancer in front of the frontends does the same from outside.
func temporalConnection(addr string) (string, client.ConnectionOptions, error) {
	fronts, err := temporalFrontends(addr)
	if err != nil || len(fronts) == 1 {
		return strings.TrimSpace(addr), client.ConnectionOptions{}, err
	}
	r := manual.NewBuilderWithScheme("lendflow-temporal")
	state := resolver.State{}
	for _, f := range fronts {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: f})
	}
	r.InitialState(state)
	return r.Scheme() + ":///frontends", client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithResolvers(r)}}, nil
}
