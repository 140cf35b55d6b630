// Package deploy checks docker-compose.yml (at the repository root) against
// what the code needs: the services, each process's subcommand and settings
// (validated by app.Config itself), start order, pinned images, and that no
// secret is written in the file. Docker is not needed.
package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.yaml.in/yaml/v3"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/workflows"
)

// The platform's processes: compose service → lendflow subcommand.
var lendflowServices = map[string]string{
	"migrate": "migrate",
	"bank":    "bank",
	"worker":  "worker",
	"api":     "api",
}

// Every setting app.FromEnv reads.
var configVars = []string{
	"DATABASE_URL", "BANK_DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE",
	"BANK_URL", "BANK_LISTEN", "API_LISTEN", "BANK_CALLBACK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY",
	"CLOCK_MODE", "CLOCK_START", "OPS_EMAIL", "OPS_PASSWORD", "TEMPORAL_UI_URL", "PUBLIC_HTTPS",
	"WORKER_METRICS_LISTEN", "API_METRICS_LISTEN", "PPROF_LISTEN", "LOG_FORMAT",
	"CLOCK_PARALLEL", "WORKER_WORKFLOW_POLLERS", "WORKER_ACTIVITY_POLLERS",
	"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "WORKER_MAX_CONCURRENT_ACTIVITIES",
	"API_DB_MAX_CONNS", "WORKER_DB_MAX_CONNS", "BANK_DB_MAX_CONNS",
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
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
	"OPS_EMAIL":         "ops@example.com",
	"OPS_PASSWORD":      "opspass0123",
}

func resolved(t *testing.T, name string, s service, env map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
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
	for _, name := range []string{"postgres", "temporal", "temporal-setup", "temporal-ui", "migrate", "bank", "worker", "api", "prometheus"} {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %q is missing", name)
		}
	}
}

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
	if got := f.Services["temporal"].Image; !regexp.MustCompile(`^temporalio/auto-setup:1\.29\.\d+$`).MatchString(got) {
		t.Errorf("temporal image %q, want temporalio/auto-setup:1.29.x", got)
	}
	if got := f.Services["temporal"].Environment["DB"]; got != "postgres12" {
		t.Errorf("temporal DB=%q, want postgres12 (PostgreSQL persistence)", got)
	}
	if got := f.Services["prometheus"].Image; !regexp.MustCompile(`^prom/prometheus:v\d+\.\d+\.\d+$`).MatchString(got) {
		t.Errorf("prometheus image %q, want prom/prometheus:vX.Y.Z", got)
	}
	if got := f.Services["temporal-ui"].Image; !strings.HasPrefix(got, "temporalio/ui:") {
		t.Errorf("temporal-ui image %q", got)
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
		need := []string{"DATABASE_URL"}
		switch sub {
		case "bank":
			need = append(need, "BANK_DATABASE_URL", "BANK_LISTEN", "BANK_CALLBACK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY")
		case "worker":
			need = append(need, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BANK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY", "CLOCK_MODE")
		case "api":
			need = append(need, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BANK_URL", "BANK_HMAC_SECRET", "BANK_API_KEY", "CLOCK_MODE",
				"API_LISTEN", "OPS_EMAIL", "OPS_PASSWORD")
		}
		for _, v := range need {
			if _, ok := s.Environment[v]; !ok {
				t.Errorf("%s: %s is not set (the default points at 127.0.0.1, not at the other containers)", name, v)
			}
		}
		if cfg.DatabaseURL != "" {
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
}

func TestAddressesMatchBetweenServices(t *testing.T) {
	f := load(t)
	env := map[string]map[string]string{}
	for name := range lendflowServices {
		env[name] = resolved(t, name, f.Services[name], sampleEnv)
	}
	port := func(listen string) string {
		_, p, err := net.SplitHostPort(listen)
		if err != nil {
			t.Fatalf("listen address %q: %v", listen, err)
		}
		return p
	}
	for _, c := range []struct{ svc, listen string }{{"bank", "BANK_LISTEN"}, {"api", "API_LISTEN"}} {
		l := env[c.svc][c.listen]
		if host, _, _ := net.SplitHostPort(l); host != "0.0.0.0" && host != "" {
			t.Errorf("%s: %s=%q: other containers cannot reach %s", c.svc, c.listen, l, host)
		}
	}
	bankPort, apiPort := port(env["bank"]["BANK_LISTEN"]), port(env["api"]["API_LISTEN"])
	for _, name := range []string{"worker", "api"} {
		u, err := url.Parse(env[name]["BANK_URL"])
		if err != nil || u.Hostname() != "bank" || u.Port() != bankPort {
			t.Errorf("%s: BANK_URL %q, want http://bank:%s", name, env[name]["BANK_URL"], bankPort)
		}
	}
	cb, err := url.Parse(env["bank"]["BANK_CALLBACK_URL"])
	if err != nil || cb.Hostname() != "api" || cb.Port() != apiPort || cb.Path != "/v1/bank/callbacks" {
		t.Errorf("bank: BANK_CALLBACK_URL %q, want http://api:%s/v1/bank/callbacks", env["bank"]["BANK_CALLBACK_URL"], apiPort)
	}
	// Callbacks are signed by the bank and checked by the platform with one
	// secret; requests are signed by the platform and checked by the bank with one key.
	for _, name := range []string{"worker", "api"} {
		for _, v := range []string{"BANK_HMAC_SECRET", "BANK_API_KEY"} {
			if f.Services[name].Environment[v] != f.Services["bank"].Environment[v] {
				t.Errorf("%s and bank get %s from different places", name, v)
			}
		}
	}
	// The platform's database is the one postgres creates, with its user and password.
	pg := resolved(t, "postgres", f.Services["postgres"], sampleEnv)
	for name := range lendflowServices {
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
	tm := resolved(t, "temporal", f.Services["temporal"], sampleEnv)
	if tm["POSTGRES_SEEDS"] != "postgres" || tm["POSTGRES_USER"] != pg["POSTGRES_USER"] || tm["POSTGRES_PWD"] != pg["POSTGRES_PASSWORD"] {
		t.Errorf("temporal does not log in to the postgres service as its user")
	}
	if got := resolved(t, "temporal-ui", f.Services["temporal-ui"], sampleEnv)["TEMPORAL_ADDRESS"]; got != "temporal:7233" {
		t.Errorf("temporal-ui: TEMPORAL_ADDRESS %q, want temporal:7233", got)
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
			if d == "postgres" && cond != "service_healthy" {
				t.Errorf("%s → postgres: condition %s, want service_healthy", name, cond)
			}
		}
	}
	if len(f.Services["postgres"].Healthcheck) == 0 {
		t.Error("postgres has no healthcheck, so service_healthy can never hold")
	}
	for _, one := range []string{"migrate", "temporal-setup"} {
		if r := f.Services[one].Restart; r != "no" {
			t.Errorf("%s is a one-shot: restart %q, want \"no\"", one, r)
		}
	}
	for _, e := range [][2]string{
		{"temporal", "postgres"}, {"temporal-setup", "temporal"}, {"temporal-ui", "temporal"},
		{"migrate", "postgres"}, {"bank", "postgres"}, {"bank", "migrate"},
		{"worker", "migrate"}, {"worker", "temporal-setup"}, {"worker", "bank"},
		{"api", "migrate"}, {"api", "temporal-setup"}, {"api", "bank"},
	} {
		if !reaches(e[0], e[1], map[string]bool{}) {
			t.Errorf("%s does not wait for %s", e[0], e[1])
		}
	}
	for _, first := range []string{"postgres", "migrate"} {
		if reaches(first, "api", map[string]bool{}) || reaches(first, "worker", map[string]bool{}) {
			t.Errorf("%s must not wait for the platform's processes", first)
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
			if strings.Contains(v, "://") {
				// Each reference becomes a marker; a password in the URL must be one whole marker.
				marked := varRef.ReplaceAllStringFunc(v, func(m string) string {
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
	ignore, err := os.ReadFile(".gitignore")
	if err != nil || !regexp.MustCompile(`(?m)^/?\.env$`).Match(ignore) {
		t.Error("deploy/.gitignore must ignore .env")
	}
}

// saPair matches NAME=Type pairs as the compose setup and up.sh write them.
var saPair = regexp.MustCompile(`\b(Loan[A-Za-z]+)=(Keyword|Int|Text|Double|Bool|Datetime|KeywordList)\b`)

func TestSearchAttributesMatchTheWorkflow(t *testing.T) {
	f := load(t)
	script := strings.Join(f.Services["temporal-setup"].Command, "\n")
	upsh, err := os.ReadFile("../scripts/up.sh")
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"docker-compose.yml temporal-setup": script, "scripts/up.sh": string(upsh)} {
		got := map[string]string{}
		for _, m := range saPair.FindAllStringSubmatch(text, -1) {
			got[m[1]] = m[2]
		}
		for n, typ := range workflows.SearchAttributeTypes {
			if got[n] != typ {
				t.Errorf("%s registers %s as %q, the workflow needs %s", where, n, got[n], typ)
			}
		}
		for n := range got {
			if _, ok := workflows.SearchAttributeTypes[n]; !ok {
				t.Errorf("%s registers %s, which the workflow does not use", where, n)
			}
		}
	}
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

// TestTemporalSetupRegistersSearchAttributes runs the temporal-setup service's
// script against a dev server, twice (a restart must not fail).
func TestTemporalSetupRegistersSearchAttributes(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	f := load(t)
	s := f.Services["temporal-setup"]
	if got := strings.Join(s.Entrypoint, " "); got != "/bin/sh -c" || len(s.Command) != 1 {
		t.Fatalf("temporal-setup: entrypoint %q command %d items, want /bin/sh -c and one script", got, len(s.Command))
	}
	script, err := interpolate(s.Command[0], sampleEnv)
	if err != nil {
		t.Fatal(err)
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

	for run := 1; run <= 2; run++ {
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
		cmd.Env = append(os.Environ(),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "TEMPORAL_NAMESPACE=default")
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
// listener (api on API_METRICS_LISTEN, worker on WORKER_METRICS_LISTEN, bank
// on BANK_LISTEN), reachable from another container.
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
	got := map[string]string{}
	for _, sc := range pc.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job %s scrapes %s; the processes serve /metrics", sc.JobName, sc.MetricsPath)
		}
		if sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("job %s: scheme %s; the processes serve plain HTTP inside the compose network", sc.JobName, sc.Scheme)
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				if prev, dup := got[sc.JobName]; dup {
					t.Errorf("job %s has two targets, %s and %s", sc.JobName, prev, target)
				}
				got[sc.JobName] = target
			}
		}
	}
	want := map[string]string{}
	for svc, listen := range map[string]string{"api": "API_METRICS_LISTEN", "worker": "WORKER_METRICS_LISTEN", "bank": "BANK_LISTEN"} {
		env := resolved(t, svc, f.Services[svc], sampleEnv)
		addr, ok := env[listen]
		if !ok {
			t.Errorf("%s: %s is not set; its default listens on 127.0.0.1, which Prometheus cannot reach", svc, listen)
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%s: %s=%q: %v", svc, listen, addr, err)
			continue
		}
		if host != "0.0.0.0" && host != "" {
			t.Errorf("%s: %s=%q: other containers cannot reach %s", svc, listen, addr, host)
		}
		want[svc] = svc + ":" + port
		if _, ok := p.DependsOn[svc]; !ok {
			t.Errorf("prometheus does not start after %s", svc)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("deploy/prometheus.yml scrapes %v, the processes listen at %v", got, want)
	}
}

// TestPublishedPorts (issue 25, point 6): the host sees the API's public
// listener, and on its loopback only the Temporal UI and Prometheus's UI;
// no metrics listener (the API's and the worker's are their own, the bank's
// is its API's) and not Temporal's frontend, which has no authorization of
// its own (docs/security.md "Temporal's frontend").
func TestPublishedPorts(t *testing.T) {
	f := load(t)
	want := map[string][]string{
		"api":         {"8080:8080"},
		"temporal-ui": {"127.0.0.1:8233:8080"},
		"prometheus":  {"127.0.0.1:9090:9090"},
	}
	for name, svc := range f.Services {
		if fmt.Sprint(svc.Ports) != fmt.Sprint(want[name]) {
			t.Errorf("%s publishes %v, want %v", name, svc.Ports, want[name])
		}
	}
	api := resolved(t, "api", f.Services["api"], sampleEnv)
	if api["API_METRICS_LISTEN"] == api["API_LISTEN"] {
		t.Errorf("api: metrics on the public listener %s", api["API_LISTEN"])
	}
}
