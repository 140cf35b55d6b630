package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/lendflow/lendflow/internal/testwait"
)

// A client given two frontends, one of them down, works through the other:
// every call of a run succeeds, whichever frontend the balancing would have
// picked (a Temporal node lost, docs/deployment.md).
func TestTwoFrontendsOneDown(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli, ClientOptions: &client.Options{Namespace: "default"},
		LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
	})
	require.NoError(t, err)
	defer func() { _ = srv.Stop() }()

	c := Config{TemporalAddress: freeAddr(t) + "," + srv.FrontendHostPort(), TemporalNamespace: "default"}
	tc, err := dialTemporal(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, err)
	defer tc.Close()
	for range 10 {
		_, err := tc.CheckHealth(ctx, nil)
		require.NoError(t, err)
		_, err = tc.WorkflowService().GetSystemInfo(ctx, nil)
		require.NoError(t, err)
	}
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, both signed by it, into dir.
func pki(t *testing.T, dir string) (ca *x509.CertPool, server tls.Certificate) {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	write := func(name, typ string, der []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lendflow test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	write("ca.pem", "CERTIFICATE", caDER)
	ca = x509.NewCertPool()
	ca.AddCert(caCert)
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: []string{name}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		require.NoError(t, err)
		return der, k
	}
	serverDER, serverKey := leaf(2, "temporal.internal", x509.ExtKeyUsageServerAuth)
	server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := leaf(3, "lendflow-worker", x509.ExtKeyUsageClientAuth)
	write("client.pem", "CERTIFICATE", clientDER)
	keyDER, err := x509.MarshalECPrivateKey(clientKey)
	require.NoError(t, err)
	write("client.key", "EC PRIVATE KEY", keyDER)
	return ca, server
}

// frontendStub answers GetSystemInfo, all a client needs to connect.
type frontendStub struct {
	workflowservice.UnimplementedWorkflowServiceServer
}

func (frontendStub) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

// A frontend that requires a client certificate signed by its CA lets the
// platform in with TEMPORAL_TLS_*, and refuses it without a certificate.
func TestTemporalMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, server := pki(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{server},
		ClientCAs: ca, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})))
	workflowservice.RegisterWorkflowServiceServer(srv, frontendStub{})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	full := TemporalTLS{CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client.key"),
		CAFile: filepath.Join(dir, "ca.pem"), ServerName: "temporal.internal"}
	tc, err := dialTemporal(context.Background(), Config{TemporalAddress: ln.Addr().String(), TemporalNamespace: "default", TemporalTLS: full}, log, nil)
	require.NoError(t, err, "the client's certificate lets it in")
	tc.Close()

	noCert := full
	noCert.CertFile, noCert.KeyFile = "", ""
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = client.DialContext(ctx, func() client.Options {
		hostPort, conn, err := temporalConnection(ln.Addr().String(), noCert)
		require.NoError(t, err)
		return client.Options{HostPort: hostPort, ConnectionOptions: conn, Logger: tlog.NewStructuredLogger(log)}
	}())
	require.Error(t, err, "without a client certificate the frontend refuses the connection")

	half := full
	half.KeyFile = ""
	require.ErrorContains(t, Config{TemporalAddress: "127.0.0.1:7233", TemporalTLS: half}.Validate("worker"), "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
	bad := full
	bad.CAFile = filepath.Join(dir, "client.key")
	_, err = bad.config()
	require.ErrorContains(t, err, "holds no PEM certificate")
}

// countingHandler counts the log records at warn and above, and keeps the
// waits they announce.
type countingHandler struct {
	warns *atomic.Int64
	mu    *sync.Mutex
	waits *[]time.Duration
}

func newCounting() countingHandler {
	return countingHandler{warns: &atomic.Int64{}, mu: &sync.Mutex{}, waits: &[]time.Duration{}}
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warns.Add(1)
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "wait" {
			h.mu.Lock()
			*h.waits = append(*h.waits, a.Value.Duration())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// A worker or an API replica started before its Temporal frontend answers
// (issue 18: a node still starting at seed 21 of TestClusterLosesNodes)
// waits for it instead of exiting: the dial is tried again, with backoff,
// and connects once the frontend is up.
func TestDialWaitsForTheFrontend(t *testing.T) {
	addr := freeAddr(t)
	h := newCounting()
	warns, log := h.warns, slog.New(h)
	type result struct {
		tc  client.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		tc, err := dialTemporal(context.Background(), Config{TemporalAddress: addr, TemporalNamespace: "default"}, log, nil)
		done <- result{tc, err}
	}()
	testwait.Within(30*time.Second).Every(10*time.Millisecond).For(t, "two refused attempts", func() bool { return warns.Load() >= 2 })
	select {
	case r := <-done:
		t.Fatalf("the dial gave up while no frontend answered: %v", r.err)
	default:
	}

	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(srv, frontendStub{})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	r := <-done
	require.NoError(t, r.err, "connected once the frontend answers")
	defer r.tc.Close()
	_, err = r.tc.WorkflowService().GetSystemInfo(context.Background(), &workflowservice.GetSystemInfoRequest{})
	require.NoError(t, err)
}

// The waiting ends with the process: a stop while no frontend answers is an
// error naming the cause, and a setting that cannot work is one at once.
func TestDialStopsWithItsContext(t *testing.T) {
	h := newCounting()
	warns, log := h.warns, slog.New(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := dialTemporal(ctx, Config{TemporalAddress: freeAddr(t), TemporalNamespace: "default"}, log, nil)
		done <- err
	}()
	testwait.Within(30*time.Second).Every(10*time.Millisecond).For(t, "a refused attempt", func() bool { return warns.Load() >= 1 })
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)

	_, err = dialTemporal(context.Background(), Config{TemporalAddress: "127.0.0.1:7233",
		TemporalTLS: TemporalTLS{CAFile: filepath.Join(t.TempDir(), "missing.pem")}}, log, nil)
	require.ErrorContains(t, err, "TEMPORAL_TLS_CA")
}

// The backoff doubles from its first wait to its most and stays there.
func TestTemporalBackoffDoubles(t *testing.T) {
	h := newCounting()
	calls := 0
	b := backoff{first: time.Microsecond, most: 8 * time.Microsecond}
	got, err := untilConnected(context.Background(), slog.New(h), "x", b, func(context.Context) (int, error) {
		calls++
		if calls < 7 {
			return 0, errors.New("not yet")
		}
		return 42, nil
	})
	require.NoError(t, err)
	require.Equal(t, 42, got)
	require.Equal(t, 7, calls)
	us := time.Microsecond
	require.Equal(t, []time.Duration{us, 2 * us, 4 * us, 8 * us, 8 * us, 8 * us}, *h.waits)
}
