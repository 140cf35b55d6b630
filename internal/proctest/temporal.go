package proctest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/workflows"
)

// Repo is the repository's top folder, where the scripts and deploy files
// the harness runs live.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Tool finds a pinned tool scripts/tools.sh installs: in $LENDFLOW_TOOLS/bin,
// the clone's .tools/bin, or ~/.cache/lendflow/tools/bin; TEMPORAL_CLI names
// the Temporal CLI directly. The test fails without it: make test installs
// the tools first.
func Tool(t testing.TB, name string) string {
	if name == "temporal" && os.Getenv("TEMPORAL_CLI") != "" {
		return os.Getenv("TEMPORAL_CLI")
	}
	home, _ := os.UserHomeDir()
	dirs := []string{filepath.Join(Repo(), ".tools", "bin"), filepath.Join(home, ".cache", "lendflow", "tools", "bin")}
	if d := os.Getenv("LENDFLOW_TOOLS"); d != "" {
		dirs = append([]string{filepath.Join(d, "bin")}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			abs, err := filepath.Abs(p)
			require.NoError(t, err)
			return abs
		}
	}
	t.Fatalf("no %s: run scripts/tools.sh (make test does)", name)
	return ""
}

// FreshDatabase makes a database of its own on DATABASE_URL's server, named
// prefix_<time>, dropped when the test ends; it returns its URL.
func FreshDatabase(t testing.TB, prefix string) string {
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	require.NoError(t, adminExec("CREATE DATABASE "+name))
	t.Cleanup(func() { _ = adminExec("DROP DATABASE " + name + " WITH (FORCE)") })
	u, err := url.Parse(dbtest.URL())
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on DATABASE_URL's database, on a connection
// of its own (a pool kept open would hold a connection the whole test).
func adminExec(stmt string) error {
	ctx := context.Background()
	admin, err := db.OpenSized(ctx, dbtest.URL(), "", 1)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Exec(ctx, stmt)
	return err
}

// FreeAddr is a free 127.0.0.1 port's address, for a process to bind.
func FreeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// Temporal is the Temporal service a test's processes use: the CLI's dev
// server, or a cluster of the real server.
type Temporal struct {
	// Address is TEMPORAL_ADDRESS for the processes: one frontend, or
	// every node's, separated by commas.
	Address string
	// Client reaches the service (the first frontend).
	Client client.Client
	// Engine names it in a benchmark's figures: "dev server" or "cluster of N".
	Engine string
	// Cluster is the cluster's nodes; nil for the dev server.
	Cluster *Cluster
}

// searchAttributeArgs are the dev server's flags registering the loan's
// search attributes.
func searchAttributeArgs() []string {
	names := make([]string, 0, len(workflows.SearchAttributeTypes))
	for n := range workflows.SearchAttributeTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	var args []string
	for _, n := range names {
		args = append(args, "--search-attribute", n+"="+workflows.SearchAttributeTypes[n])
	}
	return args
}

// DevServer starts the Temporal CLI's dev server (in memory) with the loan's
// search attributes, stopped when the test ends; its log goes to logTo.
func DevServer(t testing.TB, logTo io.Writer) *Temporal {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: Tool(t, "temporal"),
		ClientOptions: &client.Options{Namespace: "default",
			Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelWarn})))},
		LogLevel: "error", ExtraArgs: searchAttributeArgs(), Stdout: logTo, Stderr: logTo,
	})
	require.NoError(t, err, "start the Temporal dev server")
	t.Cleanup(func() { _ = srv.Stop() })
	return &Temporal{Address: srv.FrontendHostPort(), Client: srv.Client(), Engine: "dev server"}
}

// Cluster is the real Temporal server, several nodes on PostgreSQL, as make
// cluster runs it: the settings of deploy/temporal/temporal.env, the schema
// set up by deploy/temporal/schema.sh, the namespace and search attributes
// by deploy/temporal/setup.sh, each node a process a test may kill.
type Cluster struct {
	t      testing.TB
	bin    string
	logDir string
	// DBNames are its two databases (the history and the visibility store).
	DBNames [2]string
	Nodes   []*Node
}

// Node is one server process running all four services.
type Node struct {
	Name     string // temporal-1, temporal-2, ...
	Frontend string // host:port of its frontend
	Metrics  string // host:port of its Prometheus metrics (GET /metrics)
	env      []string
	mu       sync.Mutex
	proc     *Proc
}

// ServicePorts are the settings naming a node's ports, each given a free one.
var ServicePorts = []string{
	"FRONTEND_GRPC_PORT", "FRONTEND_HTTP_PORT", "FRONTEND_MEMBERSHIP_PORT",
	"HISTORY_GRPC_PORT", "HISTORY_MEMBERSHIP_PORT", "MATCHING_GRPC_PORT", "MATCHING_MEMBERSHIP_PORT",
	"WORKER_GRPC_PORT", "WORKER_MEMBERSHIP_PORT",
}

// EnvFile reads a file of settings in the repository (deploy/temporal/
// temporal.env, deploy/lendflow.env): KEY=VALUE lines, # comments, as
// compose's env_file and the shell's `set -a; .` read them too.
func EnvFile(t testing.TB, path string) []string {
	f, err := os.Open(filepath.Join(Repo(), path))
	require.NoError(t, err)
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.Contains(t, line, "=", "%s: %q", path, line)
		env = append(env, line)
	}
	require.NoError(t, sc.Err())
	return env
}

// StartCluster sets up the schema in two fresh databases on DATABASE_URL's
// server, starts nodes nodes one after the other (the first initializes the
// cluster's metadata; two starting at once on a fresh database race for
// it), and registers the namespace and search attributes at every
// frontend. logDir receives temporal-N.log. Everything is stopped and
// dropped when the test ends.
func StartCluster(t testing.TB, nodes int, logDir string) *Temporal {
	c := &Cluster{t: t, bin: Tool(t, "temporal-server"), logDir: logDir}
	dbURL, err := url.Parse(dbtest.URL())
	require.NoError(t, err)
	for i, prefix := range []string{"temporal", "temporal_visibility"} {
		u, err := url.Parse(FreshDatabase(t, "lendflow_"+prefix))
		require.NoError(t, err)
		c.DBNames[i] = strings.TrimPrefix(u.Path, "/")
	}
	// The scripts find the pinned tools on PATH, as in the admin-tools image.
	bin := t.TempDir()
	for _, tool := range []string{"temporal", "temporal-sql-tool"} {
		require.NoError(t, os.Symlink(Tool(t, tool), filepath.Join(bin, tool)))
	}
	port := dbURL.Port()
	if port == "" {
		port = "5432"
	}
	pass, _ := dbURL.User.Password()
	base := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	runScript(t, "schema.sh", append(base, "SQL_HOST="+dbURL.Hostname(), "SQL_PORT="+port,
		"SQL_USER="+dbURL.User.Username(), "SQL_PASSWORD="+pass, "DBNAME="+c.DBNames[0], "VISIBILITY_DBNAME="+c.DBNames[1]))

	common := append(append([]string{}, base...), EnvFile(t, "deploy/temporal/temporal.env")...)
	common = append(common, "POSTGRES_SEEDS="+dbURL.Hostname(), "DB_PORT="+port,
		"POSTGRES_USER="+dbURL.User.Username(), "POSTGRES_PWD="+pass,
		"DBNAME="+c.DBNames[0], "VISIBILITY_DBNAME="+c.DBNames[1], "BIND_ON_IP=127.0.0.1",
		"DYNAMIC_CONFIG_FILE_PATH="+filepath.Join(Repo(), "deploy", "temporal", "dynamicconfig.yaml"))
	var fronts []string
	for i := range nodes {
		n := &Node{Name: fmt.Sprintf("temporal-%d", i+1), env: append([]string{}, common...)}
		for _, p := range ServicePorts {
			port := lowFreePort(t)
			n.env = append(n.env, fmt.Sprintf("%s=%d", p, port))
			if p == "FRONTEND_GRPC_PORT" {
				n.Frontend = fmt.Sprintf("127.0.0.1:%d", port)
			}
		}
		n.Metrics = FreeAddr(t)
		n.env = append(n.env, "PROMETHEUS_ENDPOINT="+n.Metrics)
		c.Nodes = append(c.Nodes, n)
		t.Cleanup(func() { c.stop(n) })
		require.NoError(t, c.Start(n))
		fronts = append(fronts, n.Frontend)
	}
	address := strings.Join(fronts, ",")
	runScript(t, "setup.sh", append(base, "TEMPORAL_ADDRESS="+address, "TEMPORAL_NAMESPACE=default"))
	tc, err := client.Dial(client.Options{HostPort: fronts[0], Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	return &Temporal{Address: address, Client: tc, Engine: fmt.Sprintf("cluster of %d", nodes), Cluster: c}
}

// lowFreePort is a free port under 32768: Temporal keeps a node's ports in
// the cluster_membership table as smallint, and the kernel's ephemeral
// ports (what FreeAddr gets) lie above.
func lowFreePort(t testing.TB) int {
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port under 32768")
	return 0
}

func runScript(t testing.TB, name string, env []string) {
	cmd := exec.Command("/bin/sh", filepath.Join(Repo(), "deploy", "temporal", name))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "deploy/temporal/%s:\n%s", name, out)
}

// Start runs the node and waits until its frontend answers health checks.
func (c *Cluster) Start(n *Node) error {
	p, err := StartArgs(c.bin, []string{"--allow-no-auth", "start"}, n.env, filepath.Join(c.logDir, n.Name+".log"))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	tc, err := client.NewLazyClient(client.Options{HostPort: n.Frontend,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		return err
	}
	defer tc.Close()
	var health error
	exited := false
	healthy := testwait.Within(90 * time.Second).Every(100 * time.Millisecond).Until(func() bool {
		select {
		case <-p.Done:
			exited = true
			return true
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, health = tc.CheckHealth(ctx, nil)
		return health == nil
	})
	switch {
	case exited:
		return fmt.Errorf("%s exited at start; see %s", n.Name, filepath.Join(c.logDir, n.Name+".log"))
	case !healthy:
		return fmt.Errorf("%s is not healthy after 90 s: %v", n.Name, health)
	}
	return nil
}

// Pid is the node's current process id, 0 when it is not running.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	select {
	case <-n.proc.Done:
		return 0
	default:
		return n.proc.Cmd.Process.Pid
	}
}

// Kill ends the node with SIGKILL, as a machine lost.
func (c *Cluster) Kill(n *Node) {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	p.Kill()
}

func (c *Cluster) stop(n *Node) {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}
