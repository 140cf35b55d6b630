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
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
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
	tc, err := dialTemporal(c, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
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
	tc, err := dialTemporal(Config{TemporalAddress: ln.Addr().String(), TemporalNamespace: "default", TemporalTLS: full}, log, nil)
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
