package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/lending"
)

// advanceTracker is the clock advance the console started in this process.
// An advance can take minutes (every loan handles every event on the way),
// longer than a browser should wait on one answer: the console starts it and
// the clock page polls its progress. The progress itself is read from the
// database (the business date, the loans still due), so it is true whichever
// replica started the advance; only "running, done or failed" is this
// process's.
type advanceTracker struct {
	mu  sync.Mutex
	cur *advanceRun
}

type advanceRun struct {
	from, to time.Time
	started  time.Time
	running  bool
	err      error
}

// start begins tracking an advance, unless one is running.
func (t *advanceTracker) start(from, to time.Time) (*advanceRun, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil && t.cur.running {
		return nil, false
	}
	t.cur = &advanceRun{from: from, to: to, started: time.Now(), running: true}
	return t.cur, true
}

func (t *advanceTracker) finish(run *advanceRun, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	run.running, run.err = false, err
}

// snapshot is a copy of the current run, safe to read.
func (t *advanceTracker) snapshot() (advanceRun, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil {
		return advanceRun{}, false
	}
	return *t.cur, true
}

// consoleClock is the business date and, in sandbox mode, the advance form
// and the progress of the advance this process runs.
func (s *Server) consoleClock(w http.ResponseWriter, r *http.Request) {
	v, err := s.clockView(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "clock", v)
}

func (s *Server) clockView(ctx context.Context) (console.ClockView, error) {
	v := console.ClockView{Page: s.page(ctx, "Clock", "clock"), Progress: consolePrefix + "clock/progress"}
	today, mode, err := s.Clock.Today(ctx)
	if err != nil {
		return v, err
	}
	// One reading of the clock for the whole page: an advance moves it
	// while the page is being made.
	v.Today, v.Mode = today.Format(time.DateOnly), mode
	v.Suggest = today.AddDate(0, 0, 1).Format(time.DateOnly)
	v.Quick = []console.QuickAdvance{
		{Label: "+1 day", To: today.AddDate(0, 0, 1).Format(time.DateOnly)},
		{Label: "+1 week", To: today.AddDate(0, 0, 7).Format(time.DateOnly)},
		{Label: "+1 month", To: today.AddDate(0, 1, 0).Format(time.DateOnly)},
	}
	if run, ok := s.console.advance.snapshot(); ok {
		p, err := s.advanceProgress(ctx, run, today)
		if err != nil {
			return v, err
		}
		v.Advance = &console.Advance{From: p.From, To: p.To, Running: p.Running, Error: p.Error, LoansDue: p.LoansDue,
			Percent: p.Percent, StartedAt: run.started.Format(time.RFC3339)}
	}
	return v, nil
}

// consoleAdvance starts a sandbox clock advance through advanceClock, the
// function POST /v1/ops/clock/advance calls: the same refusals (a date
// before today, a wall clock) answered at once, the same audit entry when it
// is done. It runs on after this answer, bounded as the API's is.
func (s *Server) consoleAdvance(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, err := consoleForm(r, "to")
	var to, from time.Time
	if err == nil {
		var fe *FieldError
		if to, fe = parseDate("to", form.Get("to")); fe != nil {
			err = Validation(*fe)
		}
	}
	if err == nil {
		from, err = s.checkAdvance(ctx, to)
	}
	var run *advanceRun
	if err == nil {
		var ok bool
		if run, ok = s.console.advance.start(from, to); !ok {
			err = errAdvanceRunning
		}
	}
	if err != nil {
		prob, known := consoleProblem(err)
		if !known {
			s.consoleFail(w, r, err)
			return
		}
		v, verr := s.clockView(ctx)
		if verr != nil {
			s.consoleFail(w, r, verr)
			return
		}
		if errors.Is(err, errAdvanceRunning) {
			// conflict's fixed text speaks of duplicates and idempotency keys.
			prob.Detail = "an advance is running; wait for it to finish"
		}
		v.Problem = prob
		s.render(w, r, prob.Status, "clock", v)
		return
	}
	// The advance outlives the request; it keeps the caller (for the audit
	// entry) and the request id, not the cancellation.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), clockAdvanceWrite)
	go func() {
		defer cancel()
		err := s.advanceClock(bg, to)
		if err != nil {
			s.Logger.Error("console clock advance", "to", to.Format(time.DateOnly), "error", err)
		}
		s.console.advance.finish(run, err)
	}()
	console.Headers(w)
	http.Redirect(w, r, consolePrefix+"clock", http.StatusSeeOther)
}

type advanceProgress struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Today    string `json:"today"`
	Running  bool   `json:"running"`
	LoansDue int64  `json:"loans_due"`
	Percent  int    `json:"percent"`
	Error    string `json:"error,omitempty"`
}

// advanceProgress is where an advance stands: the business date it has
// reached, and how many loans still have events due on or before its
// target (what it has left to hand out and wait for).
func (s *Server) advanceProgress(ctx context.Context, run advanceRun, today time.Time) (advanceProgress, error) {
	p := advanceProgress{From: run.from.Format(time.DateOnly), To: run.to.Format(time.DateOnly), Today: today.Format(time.DateOnly), Running: run.running}
	if run.err != nil {
		prob, _ := consoleProblem(run.err)
		p.Error = prob.Detail
	}
	due, err := s.Q.LoanCountEventsDue(ctx, &run.to)
	if err != nil {
		return p, err
	}
	p.LoansDue = due
	total, done := lending.Days(run.from, run.to), lending.Days(run.from, today)
	switch {
	case !run.running && run.err == nil:
		p.Percent = 100
	case total > 0:
		p.Percent = min(done*100/total, 99)
	}
	return p, nil
}

// consoleAdvanceProgress answers the clock page's script.
func (s *Server) consoleAdvanceProgress(w http.ResponseWriter, r *http.Request) {
	run, ok := s.console.advance.snapshot()
	if !ok {
		s.consoleFail(w, r, errNoAdvance)
		return
	}
	today, _, err := s.Clock.Today(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	p, err := s.advanceProgress(r.Context(), run, today)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	console.Headers(w)
	writeJSON(w, http.StatusOK, p)
}
