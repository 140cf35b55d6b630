package api

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// readyTimeout bounds each readiness check: a probe that hangs is a failure,
// and the orchestrator's own probe timeout must not fire first.
const readyTimeout = 3 * time.Second

// healthz is liveness: the process answers. It checks nothing else, so a
// database outage does not get every replica restarted.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is readiness (Postgres, Temporal and the bank): 200 when
// every check passes, else 503; the body names each check ok or unavailable.
// Causes go to the log, not to an unauthenticated caller.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := s.readinessChecks()
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	out := make(map[string]string, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Concurrently, so one slow dependency does not use up the others' time.
	for name, check := range checks {
		wg.Go(func() {
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out[name] = "unavailable"
				s.log(r.Context()).Warn("readiness", "check", name, "error", err)
				return
			}
			out[name] = "ok"
		})
	}
	wg.Wait()
	status := http.StatusOK
	for _, v := range out {
		if v != "ok" {
			status = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, out)
}

func (s *Server) readinessChecks() map[string]func(context.Context) error {
	checks := make(map[string]func(context.Context) error, len(s.Checks)+1)
	for name, c := range s.Checks {
		checks[name] = c
	}
	if _, ok := checks["postgres"]; !ok && s.Pool != nil {
		checks["postgres"] = s.Pool.Ping
	}
	return checks
}
