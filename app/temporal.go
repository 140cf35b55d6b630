package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
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
func temporalConnection(addr string, t TemporalTLS) (string, client.ConnectionOptions, error) {
	tlsConfig, err := t.config()
	if err != nil {
		return "", client.ConnectionOptions{}, err
	}
	fronts, err := temporalFrontends(addr)
	if err != nil || len(fronts) == 1 {
		return strings.TrimSpace(addr), client.ConnectionOptions{TLS: tlsConfig}, err
	}
	r := manual.NewBuilderWithScheme("lendflow-temporal")
	state := resolver.State{}
	for _, f := range fronts {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: f})
	}
	r.InitialState(state)
	return r.Scheme() + ":///frontends", client.ConnectionOptions{TLS: tlsConfig, DialOptions: []grpc.DialOption{grpc.WithResolvers(r)}}, nil
}

// TemporalTLS is the files of the client's side of mutual TLS with
// Temporal's frontend (Config.TemporalTLS).
type TemporalTLS struct {
	CertFile, KeyFile, CAFile, ServerName string
}

// config is the TLS configuration of the connection, nil for a plain one.
// A certificate goes with its key; a CA or a server name alone gives TLS
// without a client certificate (an authorizer then tells who calls).
func (t TemporalTLS) config() (*tls.Config, error) {
	if t == (TemporalTLS{}) {
		return nil, nil
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %s holds no PEM certificate", t.CAFile)
		}
	}
	return c, nil
}
