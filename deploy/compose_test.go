// Package deploy checks docker-compose.yml (at the repository root) against
// what the code needs: the services of the production shape, each process's
// subcommand and settings (validated by app.Config itself), start order,
// images pinned to the versions scripts/tools.sh builds, Temporal's one-shot
// jobs running deploy/temporal's scripts, every process scraped, the ports
// published, the PostgreSQL connection budget, and that no secret is written
// in the file. Docker is not needed.
package deploy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.yaml.in/yaml/v3"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/workflows"
)

// The platform's processes: compose service → lendflow subcommand.
var lendflowServices = map[string]string{
	"migrate":  "migrate",
	"bank":     "bank",
	"worker-1": "worker",
	"worker-2": "worker",
	"api-1":    "api",
	"api-2":    "api",
	"lb":       "lb",
}

// The replicas of each, behind the balancer for the API.
var (
	apis    = []string{"api-1", "api-2"}
	workers = []string{"worker-1", "worker-2"}
)

// Every setting app.FromEnv reads.
var configVars = []string{
	"DATABASE_URL", "BANK_DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE",
	"BANK_URL", "BANK_LISTEN", "API_LISTEN", "BANK_CALLBACK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY",
	"CLOCK_MODE", "CLOCK_START", "OPS_EMAIL", "OPS_PASSWORD", "TEMPORAL_UI_URL", "PUBLIC_HTTPS",
	"WORKER_METRICS_LISTEN", "API_METRICS_LISTEN", "PPROF_LISTEN", "LOG_FORMAT",
	"CLOCK_PARALLEL", "WORKER_WORKFLOW_POLLERS", "WORKER_ACTIVITY_POLLERS",
	"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "WORKER_MAX_CONCURRENT_ACTIVITIES",
	"API_DB_MAX_CONNS", "WORKER_DB_MAX_CONNS", "BANK_DB_MAX_CONNS",
	"LB_LISTEN", "LB_BACKENDS", "LB_METRICS_LISTEN", "TRUSTED_PROXIES",
	"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_NAME",
	"PII_KEYS", "PII_HASH_KEY",
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

type service struct {
	Image       string         `yaml:"image"`
	Build       map[string]any `yaml:"build"`
	Command     stringList     `yaml:"command"`
	Entrypoint  stringList     `yaml:"entrypoint"`
	Environment envMap         `yaml:"environment"`
	DependsOn   dependsOn      `yaml:"depends_on"`
	Ports       []string       `yaml:"ports"`
	Restart     string         `yaml:"restart"`
	Healthcheck map[string]any `yaml:"healthcheck"`
	Volumes     []string       `yaml:"volumes"`
	EnvFile     stringList     `yaml:"env_file"`
	Networks    map[string]struct {
		IPv4Address string `yaml:"ipv4_address"`
	} `yaml:"networks"`
}

// stringList is a command or entrypoint: a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.Fields(n.Value)
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// envMap is environment: a mapping or a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	out := envMap{}
	if n.Kind == yaml.SequenceNode {
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		for _, it := range items {
			k, v, _ := strings.Cut(it, "=")
			out[k] = v
		}
	} else {
		var m map[string]any
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	}
	*e = out
	return nil
}

// dependsOn is depends_on: a list of names or a mapping name → {condition}.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		for _, name := range names {
			out[name] = "service_started"
		}
	} else {
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for name, c := range m {
			if c.Condition == "" {
				c.Condition = "service_started"
			}
			out[name] = c.Condition
		}
	}
	*d = out
	return nil
}

func load(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	return f
}

var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate does what compose does to a value with the given environment.
func interpolate(s string, env map[string]string) (string, error) {
	var firstErr error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sm := varRef.FindStringSubmatch(m)
		name, op, arg := sm[1], sm[2], sm[3]
		if name == "" {
			name = sm[4]
		}
		v, set := env[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?":
			if v == "" && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing a value: %s", name, arg)
			}
		case "?":
			if !set && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing: %s", name, arg)
			}
		}
		return v
	})
	return out, firstErr
}

// sampleEnv stands for a filled-in deploy/.env.
var sampleEnv = map[string]string{
	"POSTGRES_PASSWORD": "pgpass0123",
	"BANK_HMAC_SECRET":  "hmac0123456789",
	"BANK_API_KEY":      "apikey0123456789",
	"PII_KEYS":          "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	"PII_HASH_KEY":      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	"OPS_EMAIL":         "ops@example.com",
	"OPS_PASSWORD":      "opspass0123",
}

// envFile reads a settings file under deploy/ as compose's env_file does:
// KEY=VALUE lines, # comments.
func envFile(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("deploy/%s: %q is not KEY=VALUE", name, line)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// resolved is the environment a service's process sees: its env_file
// settings, then its environment interpolated with env (which wins).
func resolved(t *testing.T, name string, s service, env map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, file := range s.EnvFile {
		rel, ok := strings.CutPrefix(path.Clean(file), "deploy/")
		if !ok {
			t.Fatalf("%s: env_file %s is not under deploy/", name, file)
		}
		for k, v := range envFile(t, rel) {
			out[k] = v
		}
	}
	for k, v := range s.Environment {
		r, err := interpolate(v, env)
		if err != nil {
			t.Fatalf("%s: %s: %v", name, k, err)
		}
		out[k] = r
	}
	return out
}

func TestServicesExist(t *testing.T) {
	f := load(t)
	want := []string{"postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "migrate", "bank",
		"worker-1", "worker-2", "api-1", "api-2", "lb", "prometheus"}
	for _, name := range want {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %q is missing", name)
		}
	}
	if len(f.Services) != len(want) {
		t.Errorf("%d services, want %d: %v", len(f.Services), len(want), want)
	}
}

// pinned is the version scripts/tools.sh builds a tool at (without its v).
func pinned(t *testing.T, tool string) string {
	raw, err := os.ReadFile("../scripts/tools.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*"` + regexp.QuoteMeta(tool) + `\|[^|]*\|[^|]*\|v([^|]+)\|`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("scripts/tools.sh pins no %s", tool)
	}
	return string(m[1])
}

// The images are pinned, and Temporal's are the versions make cluster runs:
// the server and its admin tools at the server tools.sh builds, the UI at
// its UI server's.
func TestImagesArePinned(t *testing.T) {
	f := load(t)
	for name, s := range f.Services {
		if _, ours := lendflowServices[name]; ours {
			continue
		}
		if s.Image == "" || !strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
	}
	if got := f.Services["postgres"].Image; !regexp.MustCompile(`^postgres:15(\.\d+)?$`).MatchString(got) {
		t.Errorf("postgres image %q, want postgres:15", got)
	}
	server, ui := pinned(t, "temporal-server"), pinned(t, "temporal-ui-server")
	for name, want := range map[string]string{
		"temporal": "temporalio/server:" + server, "temporal-schema": "temporalio/admin-tools:" + server,
		"temporal-setup": "temporalio/admin-tools:" + server, "temporal-ui": "temporalio/ui:" + ui,
	} {
		if got := f.Services[name].Image; got != want {
			t.Errorf("%s image %q, want %q (scripts/tools.sh's pin)", name, got, want)
		}
	}
	if got := resolved(t, "temporal", f.Services["temporal"], sampleEnv)["DB"]; got != "postgres12" {
		t.Errorf("temporal DB=%q, want postgres12 (PostgreSQL persistence)", got)
	}
	if got := f.Services["prometheus"].Image; !regexp.MustCompile(`^prom/prometheus:v\d+\.\d+\.\d+$`).MatchString(got) {
		t.Errorf("prometheus image %q, want prom/prometheus:vX.Y.Z", got)
	}
}

func TestLendflowServicesRunTheirSubcommandWithValidConfig(t *testing.T) {
	f := load(t)
	image := ""
	for name, sub := range lendflowServices {
		s := f.Services[name]
		if got := strings.Join(s.Command, " "); got != sub {
			t.Errorf("%s: command %q, want %q", name, got, sub)
		}
		if len(s.Entrypoint) != 0 {
			t.Errorf("%s: entrypoint %v overrides the image's lendflow entrypoint", name, s.Entrypoint)
		}
		if s.Build["context"] != "." {
			t.Errorf("%s: build context %v, want . (the Dockerfile at the root)", name, s.Build["context"])
		}
		if image == "" {
			image = s.Image
		} else if s.Image != image {
			t.Errorf("%s: image %q differs from the other lendflow services' %q", name, s.Image, image)
		}

		env := resolved(t, name, s, sampleEnv)
		// The process sees exactly the service's environment.
		for _, v := range configVars {
			t.Setenv(v, env[v])
		}
		cfg, err := app.FromEnv()
		if err == nil {
			err = cfg.Validate(sub)
		}
		if err != nil {
			t.Errorf("%s: lendflow %s would refuse its configuration: %v", name, sub, err)
			continue
		}
		// Defaults are for one machine; in compose every address must be explicit.
		need := []string{}
		switch sub {
		case "migrate":
			need = append(need, "DATABASE_URL", "PII_KEYS", "PII_HASH_KEY")
		case "bank":
			need = append(need, "DATABASE_URL", "BANK_DATABASE_URL", "BANK_LISTEN", "BANK_CALLBACK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY", "BANK_DB_MAX_CONNS")
		case "worker":
			need = append(need, "DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BANK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY", "CLOCK_MODE",
				"WORKER_METRICS_LISTEN", "WORKER_DB_MAX_CONNS")
		case "api":
			need = append(need, "DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BANK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY", "CLOCK_MODE",
				"API_LISTEN", "API_METRICS_LISTEN", "OPS_EMAIL", "OPS_PASSWORD", "API_DB_MAX_CONNS")
		case "lb":
			need = append(need, "LB_LISTEN", "LB_BACKENDS", "LB_METRICS_LISTEN")
		}
		for _, v := range need {
			if _, ok := env[v]; !ok {
				t.Errorf("%s: %s is not set (the default is for one machine, not for the other containers)", name, v)
			}
		}
		if sub != "lb" {
			u, err := url.Parse(cfg.DatabaseURL)
			if err != nil || u.Hostname() != "postgres" {
				t.Errorf("%s: DATABASE_URL %q does not point at the postgres service", name, cfg.DatabaseURL)
			}
		}
		if sub == "worker" || sub == "api" {
			if cfg.TemporalAddress != "temporal:7233" {
				t.Errorf("%s: TEMPORAL_ADDRESS %q, want temporal:7233", name, cfg.TemporalAddress)
			}
			// Production refuses unsafe defaults: a sandbox clock is asked for, never assumed.
			if cfg.ClockMode != "wall" {
				t.Errorf("%s: CLOCK_MODE %q with an empty env file, want wall", name, cfg.ClockMode)
			}
		}
	}
	// The replicas of a process are the same service twice.
	for _, group := range [][]string{apis, workers} {
		a := resolved(t, group[0], f.Services[group[0]], sampleEnv)
		for _, other := range group[1:] {
			if b := resolved(t, other, f.Services[other], sampleEnv); fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s and %s are configured differently", group[0], other)
			}
		}
	}
}

// listenPort is the port of a listen address that other containers reach
// (0.0.0.0 or no host).
func listenPort(t *testing.T, svc, name, listen string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", svc, name, listen, err)
	}
	if host != "0.0.0.0" && host != "" {
		t.Errorf("%s: %s=%q: other containers cannot reach %s", svc, name, listen, host)
	}
	return port
}

func TestAddressesMatchBetweenServices(t *testing.T) {
	f := load(t)
	env := map[string]map[string]string{}
	for name := range f.Services {
		env[name] = resolved(t, name, f.Services[name], sampleEnv)
	}
	bankPort := listenPort(t, "bank", "BANK_LISTEN", env["bank"]["BANK_LISTEN"])
	lbPort := listenPort(t, "lb", "LB_LISTEN", env["lb"]["LB_LISTEN"])
	for _, name := range append(append([]string{}, workers...), apis...) {
		u, err := url.Parse(env[name]["BANK_URL"])
		if err != nil || u.Hostname() != "bank" || u.Port() != bankPort {
			t.Errorf("%s: BANK_URL %q, want http://bank:%s", name, env[name]["BANK_URL"], bankPort)
		}
	}
	// The bank's callbacks reach an API replica through the balancer.
	cb, err := url.Parse(env["bank"]["BANK_CALLBACK_URL"])
	if err != nil || cb.Hostname() != "lb" || cb.Port() != lbPort || cb.Path != "/v1/bank/callbacks" {
		t.Errorf("bank: BANK_CALLBACK_URL %q, want http://lb:%s/v1/bank/callbacks", env["bank"]["BANK_CALLBACK_URL"], lbPort)
	}
	// The balancer sends to every API replica, at its listener, and to nothing else.
	var want []string
	for _, a := range apis {
		want = append(want, "http://"+a+":"+listenPort(t, a, "API_LISTEN", env[a]["API_LISTEN"]))
	}
	if got := strings.Split(env["lb"]["LB_BACKENDS"], ","); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lb: LB_BACKENDS %v, want %v", got, want)
	}
	// The API replicas believe X-Forwarded-For from the balancer, and only
	// from it: its fixed address on the compose network's subnet. Anything
	// wider would let another container name any client address.
	lbAddr, subnets := f.Services["lb"].Networks["default"].IPv4Address, f.Networks["default"].IPAM.Config
	if lbAddr == "" || len(subnets) != 1 {
		t.Errorf("lb: no fixed address on the default network's one subnet (the API's TRUSTED_PROXIES)")
	} else if n, err := netip.ParsePrefix(subnets[0].Subnet); err != nil || !n.Contains(netip.MustParseAddr(lbAddr)) {
		t.Errorf("lb: its address %s is not on the default network's subnet %s", lbAddr, subnets[0].Subnet)
	}
	for _, a := range apis {
		if got := env[a]["TRUSTED_PROXIES"]; got != lbAddr {
			t.Errorf("%s: TRUSTED_PROXIES %q, want the balancer's address %q and nothing else", a, got, lbAddr)
		}
	}
	// Callbacks are signed by the bank and checked by the platform with one
	// secret; requests are signed by the platform and checked by the bank with one key.
	for _, name := range append(append([]string{}, workers...), apis...) {
		for _, v := range []string{"BANK_HMAC_SECRET", "BANK_API_KEY"} {
			if f.Services[name].Environment[v] != f.Services["bank"].Environment[v] {
				t.Errorf("%s and bank get %s from different places", name, v)
			}
		}
	}
	// The platform's database is the one postgres creates, with its user and password.
	pg := env["postgres"]
	for name, sub := range lendflowServices {
		if sub == "lb" {
			continue
		}
		u, err := url.Parse(env[name]["DATABASE_URL"])
		if err != nil {
			t.Errorf("%s: DATABASE_URL: %v", name, err)
			continue
		}
		pass, _ := u.User.Password()
		if u.User.Username() != pg["POSTGRES_USER"] || pass != pg["POSTGRES_PASSWORD"] || strings.TrimPrefix(u.Path, "/") != pg["POSTGRES_DB"] {
			t.Errorf("%s: DATABASE_URL user/password/database do not match the postgres service's POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB", name)
		}
	}
	// Temporal and its schema job log in to the postgres service as its user,
	// into the same two databases.
	tm, schema := env["temporal"], env["temporal-schema"]
	if tm["POSTGRES_SEEDS"] != "postgres" || tm["POSTGRES_USER"] != pg["POSTGRES_USER"] || tm["POSTGRES_PWD"] != pg["POSTGRES_PASSWORD"] {
		t.Errorf("temporal does not log in to the postgres service as its user")
	}
	if schema["SQL_HOST"] != "postgres" || schema["SQL_USER"] != pg["POSTGRES_USER"] || schema["SQL_PASSWORD"] != pg["POSTGRES_PASSWORD"] {
		t.Errorf("temporal-schema does not log in to the postgres service as its user")
	}
	for _, v := range []string{"DBNAME", "VISIBILITY_DBNAME"} {
		if tm[v] == "" || tm[v] != schema[v] {
			t.Errorf("temporal's %s %q, the schema job's %q: one database", v, tm[v], schema[v])
		}
	}
	front := "temporal:7233"
	if p := tm["FRONTEND_GRPC_PORT"]; p != "" {
		front = "temporal:" + p
	}
	for _, name := range []string{"temporal-setup", "temporal-ui"} {
		if got := env[name]["TEMPORAL_ADDRESS"]; got != front {
			t.Errorf("%s: TEMPORAL_ADDRESS %q, want %s", name, got, front)
		}
	}
}

func TestStartOrder(t *testing.T) {
	f := load(t)
	// No cycles, and every dependency exists.
	state := map[string]int{}
	var visit func(string, []string)
	visit = func(n string, path []string) {
		switch state[n] {
		case 1:
			t.Fatalf("depends_on cycle: %s → %s", strings.Join(path, " → "), n)
		case 2:
			return
		}
		state[n] = 1
		for d := range f.Services[n].DependsOn {
			if _, ok := f.Services[d]; !ok {
				t.Errorf("%s depends on missing service %s", n, d)
				continue
			}
			visit(d, append(path, n))
		}
		state[n] = 2
	}
	for n := range f.Services {
		visit(n, nil)
	}
	// reaches reports whether a depends (transitively) on b.
	var reaches func(a, b string, seen map[string]bool) bool
	reaches = func(a, b string, seen map[string]bool) bool {
		for d := range f.Services[a].DependsOn {
			if d == b || (!seen[d] && func() bool { seen[d] = true; return reaches(d, b, seen) }()) {
				return true
			}
		}
		return false
	}

	for name, s := range f.Services {
		for d, cond := range s.DependsOn {
			dep := f.Services[d]
			// A one-shot must have finished, successfully, before what needs it starts.
			if dep.Restart == "no" && cond != "service_completed_successfully" {
				t.Errorf("%s → %s: condition %s, want service_completed_successfully (%s is a one-shot)", name, d, cond, d)
			}
			// What has a health check is waited for until healthy.
			if len(dep.Healthcheck) > 0 && cond != "service_healthy" {
				t.Errorf("%s → %s: condition %s, want service_healthy", name, d, cond)
			}
		}
	}
	for _, svc := range []string{"postgres", "temporal"} {
		if len(f.Services[svc].Healthcheck) == 0 {
			t.Errorf("%s has no healthcheck, so service_healthy can never hold", svc)
		}
	}
	for _, one := range []string{"migrate", "temporal-schema", "temporal-setup"} {
		if r := f.Services[one].Restart; r != "no" {
			t.Errorf("%s is a one-shot: restart %q, want \"no\"", one, r)
		}
	}
	edges := [][2]string{
		{"temporal-schema", "postgres"}, {"temporal", "temporal-schema"}, {"temporal-setup", "temporal"}, {"temporal-ui", "temporal"},
		{"migrate", "postgres"}, {"bank", "postgres"}, {"bank", "migrate"},
	}
	for _, p := range append(append([]string{}, workers...), apis...) {
		edges = append(edges, [2]string{p, "migrate"}, [2]string{p, "temporal-setup"}, [2]string{p, "bank"})
	}
	for _, a := range apis {
		edges = append(edges, [2]string{"lb", a})
	}
	for _, e := range edges {
		if !reaches(e[0], e[1], map[string]bool{}) {
			t.Errorf("%s does not wait for %s", e[0], e[1])
		}
	}
	for _, first := range []string{"postgres", "migrate", "temporal-schema", "temporal"} {
		for _, p := range append(append([]string{"lb"}, workers...), apis...) {
			if reaches(first, p, map[string]bool{}) {
				t.Errorf("%s must not wait for the platform's %s", first, p)
			}
		}
	}
}

var secretKey = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|_PWD$|SECRET|TOKEN|API_KEY|PRIVATE_KEY)`)
var requiredRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$`)

func TestNoLiteralSecrets(t *testing.T) {
	f := load(t)
	refs := map[string]bool{}
	for name, s := range f.Services {
		for k, v := range s.Environment {
			if secretKey.MatchString(k) && !requiredRef.MatchString(v) {
				t.Errorf("%s: %s=%q: a secret must be a required reference such as ${%s:?set %s}", name, k, v, k, k)
			}
			// A value may be a list of URLs (LB_BACKENDS).
			for _, one := range strings.Split(v, ",") {
				if !strings.Contains(one, "://") {
					continue
				}
				// Each reference becomes a marker; a password in the URL must be one whole marker.
				marked := varRef.ReplaceAllStringFunc(one, func(m string) string {
					if sm := varRef.FindStringSubmatch(m); sm[1] != "" && sm[2] == ":?" {
						return "required-ref-" + sm[1]
					}
					return "x"
				})
				u, err := url.Parse(marked)
				if err != nil {
					t.Errorf("%s: %s=%q does not parse as a URL: %v", name, k, v, err)
					continue
				}
				if pass, ok := u.User.Password(); ok && !regexp.MustCompile(`^required-ref-\w+$`).MatchString(pass) {
					t.Errorf("%s: %s=%q: the password in the URL must be a required reference ${VAR:?...}", name, k, v)
				}
			}
			for _, m := range varRef.FindAllStringSubmatch(v, -1) {
				if m[1] != "" && m[2] == ":?" {
					refs[m[1]] = true
				}
			}
		}
	}
	// Without the env file, compose must refuse to start rather than run with empty secrets.
	for name, s := range f.Services {
		for k, v := range s.Environment {
			if !secretKey.MatchString(k) {
				continue
			}
			if _, err := interpolate(v, map[string]string{}); err == nil {
				t.Errorf("%s: %s interpolates without an env file", name, k)
			}
		}
	}
	// deploy/.env.example names every required variable, with placeholders only; deploy/.env is ignored.
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	exampleVars := map[string]string{}
	for _, line := range strings.Split(string(example), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		exampleVars[k] = v
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok := exampleVars[n]
		if !ok {
			t.Errorf("deploy/.env.example does not list required variable %s", n)
		}
		if secretKey.MatchString(n) && !strings.Contains(v, "replace") {
			t.Errorf("deploy/.env.example: %s=%q looks like a real value, want a placeholder", n, v)
		}
	}
	// The settings files every service reads hold no secret either.
	for _, file := range []string{"lendflow.env", "temporal/temporal.env"} {
		for k := range envFile(t, file) {
			if secretKey.MatchString(k) {
				t.Errorf("deploy/%s: %s is a secret; secrets come from the env file as required references", file, k)
			}
		}
	}
	ignore, err := os.ReadFile(".gitignore")
	if err != nil || !regexp.MustCompile(`(?m)^/?\.env$`).Match(ignore) {
		t.Error("deploy/.gitignore must ignore .env")
	}
}

// saPair matches NAME=Type pairs as deploy/temporal/setup.sh and up.sh write them.
var saPair = regexp.MustCompile(`\b(Loan[A-Za-z]+)=(Keyword|Int|Text|Double|Bool|Datetime|KeywordList)\b`)

func TestSearchAttributesMatchTheWorkflow(t *testing.T) {
	for _, file := range []string{"temporal/setup.sh", "../scripts/up.sh"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range saPair.FindAllStringSubmatch(string(raw), -1) {
			got[m[1]] = m[2]
		}
		for n, typ := range workflows.SearchAttributeTypes {
			if got[n] != typ {
				t.Errorf("%s registers %s as %q, the workflow needs %s", file, n, got[n], typ)
			}
		}
		for n := range got {
			if _, ok := workflows.SearchAttributeTypes[n]; !ok {
				t.Errorf("%s registers %s, which the workflow does not use", file, n)
			}
		}
	}
}

// temporalMount is where docker-compose.yml mounts deploy/temporal.
const temporalMount = "/etc/lendflow/temporal"

// Temporal's server and one-shot jobs read deploy/temporal, mounted
// read-only: the jobs run its scripts (the ones make cluster and the
// cluster test run), the server its settings and dynamic config.
func TestTemporalJobsRunDeployScripts(t *testing.T) {
	f := load(t)
	for _, name := range []string{"temporal-schema", "temporal", "temporal-setup"} {
		if fmt.Sprint(f.Services[name].Volumes) != fmt.Sprint([]string{"./deploy/temporal:" + temporalMount + ":ro"}) {
			t.Errorf("%s: volumes %v, want ./deploy/temporal at %s, read-only", name, f.Services[name].Volumes, temporalMount)
		}
	}
	for name, script := range map[string]string{"temporal-schema": "schema.sh", "temporal-setup": "setup.sh"} {
		want := []string{"/bin/sh", temporalMount + "/" + script}
		if got := f.Services[name].Entrypoint; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: entrypoint %v, want %v", name, got, want)
		}
	}
	if got := f.Services["temporal"].EnvFile; fmt.Sprint(got) != fmt.Sprint([]string{"./deploy/temporal/temporal.env"}) {
		t.Errorf("temporal: env_file %v, want ./deploy/temporal/temporal.env (make cluster's settings too)", got)
	}
	dc := resolved(t, "temporal", f.Services["temporal"], sampleEnv)["DYNAMIC_CONFIG_FILE_PATH"]
	rel, ok := strings.CutPrefix(dc, temporalMount+"/")
	if !ok {
		t.Fatalf("temporal: DYNAMIC_CONFIG_FILE_PATH %q is not in %s", dc, temporalMount)
	}
	if _, err := os.Stat(filepath.Join("temporal", rel)); err != nil {
		t.Errorf("temporal: DYNAMIC_CONFIG_FILE_PATH %q: %v", dc, err)
	}
}

// TestTemporalSetupRegistersSearchAttributes runs the temporal-setup job's
// script (deploy/temporal/setup.sh) against a dev server, twice (a restart
// must not fail).
func TestTemporalSetupRegistersSearchAttributes(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	bin := t.TempDir()
	abs, err := filepath.Abs(cli)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(bin, "temporal")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: abs, ClientOptions: &client.Options{Namespace: "default"},
		LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
	})
	if err != nil {
		t.Fatalf("start the Temporal dev server: %v", err)
	}
	defer func() { _ = srv.Stop() }()

	env := resolved(t, "temporal-setup", load(t).Services["temporal-setup"], sampleEnv)
	for run := 1; run <= 2; run++ {
		cmd := exec.CommandContext(ctx, "/bin/sh", "temporal/setup.sh")
		cmd.Env = append(os.Environ(),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "TEMPORAL_NAMESPACE="+env["TEMPORAL_NAMESPACE"],
			"TEMPORAL_RETENTION="+env["TEMPORAL_RETENTION"])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("temporal-setup run %d: %v\n%s", run, err, out)
		}
	}
	resp, err := srv.Client().OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for n, typ := range workflows.SearchAttributeTypes {
		want := enumspb.IndexedValueType(enumspb.IndexedValueType_value["INDEXED_VALUE_TYPE_"+strings.ToUpper(typ)])
		if got, ok := resp.CustomAttributes[n]; !ok || got != want {
			t.Errorf("after temporal-setup, %s is %v, want %v", n, got, want)
		}
	}
}

// TestTemporalSchemaJobIsRepeatable runs the temporal-schema job's script
// (deploy/temporal/schema.sh) with the pinned schema tool on fresh databases,
// twice: the second run finds everything done and changes nothing.
func TestTemporalSchemaJobIsRepeatable(t *testing.T) {
	if os.Getenv("TEMPORAL_CLI") == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it and installs the schema tool)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	tool := filepath.Join(filepath.Dir(os.Getenv("TEMPORAL_CLI")), "temporal-sql-tool")
	if _, err := os.Stat(tool); err != nil {
		t.Fatalf("no temporal-sql-tool beside TEMPORAL_CLI: run scripts/tools.sh (%v)", err)
	}
	ctx := context.Background()
	admin, err := db.OpenSized(ctx, dbtest.URL(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	names := []string{fmt.Sprintf("schema_job_%d", time.Now().UnixNano()), fmt.Sprintf("schema_job_vis_%d", time.Now().UnixNano())}
	defer func() {
		for _, n := range names {
			_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
	}()
	u, err := url.Parse(dbtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	pass, _ := u.User.Password()
	versions := func() []string {
		var out []string
		for _, n := range names {
			v := *u
			v.Path = "/" + n
			pool, err := db.OpenSized(ctx, v.String(), "", 1)
			if err != nil {
				t.Fatal(err)
			}
			var cur string
			err = pool.QueryRow(ctx, "SELECT curr_version FROM schema_version").Scan(&cur)
			pool.Close()
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			out = append(out, cur)
		}
		return out
	}
	var first []string
	for run := 1; run <= 2; run++ {
		cmd := exec.Command("/bin/sh", "temporal/schema.sh")
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(tool)+string(os.PathListSeparator)+os.Getenv("PATH"),
			"SQL_HOST="+u.Hostname(), "SQL_PORT="+port, "SQL_USER="+u.User.Username(), "SQL_PASSWORD="+pass,
			"DBNAME="+names[0], "VISIBILITY_DBNAME="+names[1])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("temporal-schema run %d: %v\n%s", run, err, out)
		}
		got := versions()
		if run == 1 {
			first = got
			for i, v := range got {
				if v == "" || v == "0.0" {
					t.Errorf("%s is at schema version %q after the job", names[i], v)
				}
			}
		} else if fmt.Sprint(got) != fmt.Sprint(first) {
			t.Errorf("a second run moved the schema from %v to %v", first, got)
		}
	}
	t.Logf("schema versions %v (history, visibility)", first)
}

func TestDockerfileBuildsTheBinary(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"./cmd/lendflow", "CGO_ENABLED=0", `ENTRYPOINT ["/usr/local/bin/lendflow"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^FROM .* AS build$`).MatchString(df) || strings.Count(df, "\nFROM ") < 1 {
		t.Error("Dockerfile is not a multi-stage build")
	}
}

// prometheusConfig is the part of deploy/prometheus.yml the test reads.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// TestPrometheusScrapesEveryProcess: the prometheus service reads
// deploy/prometheus.yml, whose targets are exactly each process's metrics
// listener (each API replica on API_METRICS_LISTEN, each worker on
// WORKER_METRICS_LISTEN, the balancer on LB_METRICS_LISTEN, the bank on
// BANK_LISTEN, Temporal on PROMETHEUS_ENDPOINT), reachable from another
// container.
func TestPrometheusScrapesEveryProcess(t *testing.T) {
	f := load(t)
	p := f.Services["prometheus"]
	configPath := ""
	for _, a := range p.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			configPath = v
		}
	}
	if configPath == "" {
		t.Fatal("prometheus: no --config.file in its command")
	}
	mounted := false
	for _, v := range p.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && filepath.Clean(parts[0]) == "deploy/prometheus.yml" && parts[1] == configPath {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("prometheus: ./deploy/prometheus.yml is not mounted at %s (volumes %v)", configPath, p.Volumes)
	}

	raw, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var pc prometheusConfig
	if err := yaml.Unmarshal(raw, &pc); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}
	got := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job %s scrapes %s; the processes serve /metrics", sc.JobName, sc.MetricsPath)
		}
		if sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("job %s: scheme %s; the processes serve plain HTTP inside the compose network", sc.JobName, sc.Scheme)
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				got[target] = true
			}
		}
	}
	listeners := map[string]string{"bank": "BANK_LISTEN", "lb": "LB_METRICS_LISTEN", "temporal": "PROMETHEUS_ENDPOINT"}
	for _, a := range apis {
		listeners[a] = "API_METRICS_LISTEN"
	}
	for _, w := range workers {
		listeners[w] = "WORKER_METRICS_LISTEN"
	}
	want := map[string]bool{}
	for svc, listen := range listeners {
		addr, ok := resolved(t, svc, f.Services[svc], sampleEnv)[listen]
		if !ok {
			t.Errorf("%s: %s is not set; the process serves no metrics Prometheus can reach", svc, listen)
			continue
		}
		want[svc+":"+listenPort(t, svc, listen, addr)] = true
		if _, ok := p.DependsOn[svc]; !ok {
			t.Errorf("prometheus does not start after %s", svc)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("deploy/prometheus.yml scrapes %v, the processes listen at %v", got, want)
	}
}

// TestPublishedPorts (issue 25, point 6): the host sees the balancer's
// public listener, and on its loopback only the Temporal UI and
// Prometheus's UI; no API replica directly, no metrics listener (the
// processes' are their own, the bank's is its API's) and not Temporal's
// frontend, which has no authorization of its own (docs/security.md
// "Temporal's frontend").
func TestPublishedPorts(t *testing.T) {
	f := load(t)
	want := map[string][]string{
		"lb":          {"8080:8080"},
		"temporal-ui": {"127.0.0.1:8233:8080"},
		"prometheus":  {"127.0.0.1:9090:9090"},
	}
	for name, svc := range f.Services {
		if fmt.Sprint(svc.Ports) != fmt.Sprint(want[name]) {
			t.Errorf("%s publishes %v, want %v", name, svc.Ports, want[name])
		}
	}
	for _, a := range apis {
		env := resolved(t, a, f.Services[a], sampleEnv)
		if env["API_METRICS_LISTEN"] == env["API_LISTEN"] {
			t.Errorf("%s: metrics on the public listener %s", a, env["API_LISTEN"])
		}
	}
}

// reservedConns is what the connection budget leaves of PostgreSQL's
// default max_connections (100): its superuser_reserved_connections (3),
// and 10 for people and jobs (psql, pg_dump, the migrate and schema jobs).
const (
	maxConnections = 100
	reservedConns  = 3 + 10
)

// TestConnectionBudget adds up every pool of the shape (docs/deployment.md
// "Sizing"): each Temporal node runs four services, each with its pool for
// the history store and its pool for visibility; then each API replica,
// worker and bank. It must fit a stock PostgreSQL with room to spare, and
// still fit with the second Temporal node make cluster runs.
func TestConnectionBudget(t *testing.T) {
	f := load(t)
	tm := resolved(t, "temporal", f.Services["temporal"], sampleEnv)
	num := func(env map[string]string, svc, k string) int {
		n, err := strconv.Atoi(env[k])
		if err != nil || n < 1 {
			t.Fatalf("%s: %s=%q: want a pool size", svc, k, env[k])
		}
		return n
	}
	if num(tm, "temporal", "SQL_MAX_IDLE_CONNS") > num(tm, "temporal", "SQL_MAX_CONNS") ||
		num(tm, "temporal", "SQL_VIS_MAX_IDLE_CONNS") > num(tm, "temporal", "SQL_VIS_MAX_CONNS") {
		t.Error("temporal: more idle connections than connections")
	}
	node := 4 * (num(tm, "temporal", "SQL_MAX_CONNS") + num(tm, "temporal", "SQL_VIS_MAX_CONNS"))
	lines := []string{fmt.Sprintf("temporal node %d (4 × (%s + %s))", node, tm["SQL_MAX_CONNS"], tm["SQL_VIS_MAX_CONNS"])}
	platform := 0
	pool := map[string]string{"api": "API_DB_MAX_CONNS", "worker": "WORKER_DB_MAX_CONNS", "bank": "BANK_DB_MAX_CONNS"}
	for name, sub := range lendflowServices {
		k, ok := pool[sub]
		if !ok {
			continue // migrate ends before the others start; lb holds none
		}
		n := num(resolved(t, name, f.Services[name], sampleEnv), name, k)
		platform += n
		lines = append(lines, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(lines)
	total := node + platform
	t.Logf("PostgreSQL connections at most: %s; compose %d, with make cluster's second node %d; max_connections %d, %d kept for superusers, people and jobs",
		strings.Join(lines, ", "), total, total+node, maxConnections, reservedConns)
	if total+node > maxConnections-reservedConns {
		t.Errorf("the shape's pools (%d with two Temporal nodes) do not fit max_connections %d less %d", total+node, maxConnections, reservedConns)
	}
}
