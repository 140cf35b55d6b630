package bench

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stackEnv is LENDFLOW_STACK_X=v from the benchmark's environment as X=v, for
// every process of the stack: how a run tries a setting (CLOCK_PARALLEL,
// WORKER_ACTIVITY_POLLERS, ...) without a flag for each.
func stackEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "LENDFLOW_STACK_"); ok {
			out = append(out, v)
		}
	}
	return out
}

// procEnv is LENDFLOW_PROC_<name>_X=v as X=v, for the one process <name>
// (LENDFLOW_PROC_worker_PPROF_LISTEN=127.0.0.1:6061 profiles the worker alone).
func procEnv(name string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "LENDFLOW_PROC_"+name+"_"); ok {
			out = append(out, v)
		}
	}
	return out
}

// userHZ is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on every
// Linux the kernel's ABI allows.
const userHZ = 100

// procCPU is a process's user and system CPU, in seconds, from
// /proc/<pid>/stat (fields 14 and 15). 0 once the process is gone.
func procCPU(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / userHZ
}

// children are this process's child processes whose command name starts with comm.
func children(comm string) []int {
	var out []int
	me := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range dirs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(string(raw[end+1:]))
		if len(f) < 2 || !strings.HasPrefix(string(raw[open+1:end]), comm) {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == me {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			out = append(out, pid)
		}
	}
	return out
}

// postgresBackends are the server processes serving database dbName: a
// backend's command line reads "postgres: [<cluster>: ]<user> <database>
// <client> <state>", and the benchmark's database name is its own. Only
// backends alive at the reading count; the pools keep theirs open through a
// run.
func postgresBackends(dbName string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range dirs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(strings.ReplaceAll(string(raw), "\x00", " "))
		if len(f) >= 3 && f[0] == "postgres:" && slices.Contains(f[1:], dbName) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			out = append(out, pid)
		}
	}
	return out
}

// cpuSnapshot is CPU seconds used so far by each part of the stack, and
// the machine's busy and total CPU (other work on it shows as busy time the
// parts do not account for).
type cpuSnapshot struct {
	at          time.Time
	sec         map[string]float64
	busy, total float64
}

// cpuOrder is how the parts are listed.
var cpuOrder = []string{"api", "worker", "bank", "temporal", "postgres", "temporal's postgres", "bench"}

// cpu reads every part: the three lendflow processes, the Temporal service
// (the dev server or the cluster's nodes, this test's children),
// PostgreSQL's backends on the stack's database and, for a cluster, on
// Temporal's two (PIDs seen now; a backend that exited between two readings
// loses its time, one opened between them shows all of its own), and this
// test process (the HTTP clients and, during the ceiling, its worker).
func (s *stack) cpu() cpuSnapshot {
	c := cpuSnapshot{at: time.Now(), sec: map[string]float64{}}
	for name, p := range s.procs {
		c.sec[name] = procCPU(p.Cmd.Process.Pid)
	}
	for _, pid := range children("temporal") {
		c.sec["temporal"] += procCPU(pid)
	}
	if u, err := url.Parse(s.dbURL); err == nil {
		for _, pid := range postgresBackends(strings.TrimPrefix(u.Path, "/")) {
			c.sec["postgres"] += procCPU(pid)
		}
	}
	if s.engine.Cluster != nil {
		for _, name := range s.engine.Cluster.DBNames {
			for _, pid := range postgresBackends(name) {
				c.sec["temporal's postgres"] += procCPU(pid)
			}
		}
	}
	c.sec["bench"] = procCPU(os.Getpid())
	c.busy, c.total = machineTicks()
	return c
}

// cpuUsed is what each part used between two readings, with the wall time
// and the share of the machine's cores it amounts to.
func cpuUsed(from, to cpuSnapshot, cores int) string {
	wall := to.at.Sub(from.at).Seconds()
	var parts []string
	total := 0.0
	rank := func(n string) int {
		if i := slices.Index(cpuOrder, n); i >= 0 {
			return i
		}
		return len(cpuOrder)
	}
	names := slices.Clone(cpuOrder)
	for n := range to.sec {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	for _, n := range names {
		d := to.sec[n] - from.sec[n]
		total += d
		parts = append(parts, fmt.Sprintf("%s %.1f s", n, d))
	}
	return fmt.Sprintf("%s; total %.1f s in %.1f s wall = %.0f%% of %d cores", strings.Join(parts, ", "), total, wall, 100*total/(wall*float64(cores)), cores)
}

// machineTicks is the machine's busy and total CPU time in clock ticks
// (/proc/stat), all cores together.
func machineTicks() (busy, total float64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// perOp is what each part spent between two readings in ms of CPU per op
// of n, and how busy the whole machine was meanwhile.
func perOp(from, to cpuSnapshot, n int) string {
	var parts []string
	for _, name := range cpuOrder {
		parts = append(parts, fmt.Sprintf("%s %.2f", name, (to.sec[name]-from.sec[name])*1000/float64(n)))
	}
	return fmt.Sprintf("%s ms of CPU an op; machine %.0f%% busy", strings.Join(parts, ", "), 100*(to.busy-from.busy)/max(to.total-from.total, 1))
}
