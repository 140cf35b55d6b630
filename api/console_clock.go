package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// The console's clock advance is shared by the API's replicas
// (docs/replicas.md). An advance can take minutes (every loan handles every
// event on the way), longer than a browser should wait on one answer: the
// console starts it and the clock page polls its progress. Its record —
// which advance, running, done or failed — is a row in PostgreSQL
// (console_clock_advance), so whichever replica serves the page shows it,
// and no replica starts a second while it runs. It carries the replica
// running it: an advance whose replica died is shown stopped, and the next
// may start. The progress itself is read from the database too (the
// business date, the loans still due).
type advanceRun struct {
	n                 int64 // which advance, so one taken over cannot finish its successor
	from, to, started time.Time
	running           bool
	failure           string // why it stopped, for the page; "" done or running
}

// advanceOrphaned is the failure of an advance whose process died.
const advanceOrphaned = "the process running it stopped before it finished; advance again"

// advanceStart records an advance as running, unless one is.
func (s *Server) advanceStart(ctx context.Context, from, to time.Time) (advanceRun, bool, error) {
	row, err := s.Q.ConsoleAdvanceStart(ctx, dbq.ConsoleAdvanceStartParams{
		FromDate: from, ToDate: to, ReplicaID: s.replicaID(), MaxSeconds: clockAdvanceWrite.Seconds(),
	})
	if errors.Is(err, db.ErrNotFound) {
		return advanceRun{}, false, nil
	}
	if err != nil {
		return advanceRun{}, false, err
	}
	return advanceRun{n: row.Run, from: row.FromDate, to: row.ToDate, started: row.StartedAt, running: true}, true, nil
}

// advanceFinish records how run ended: err nil is done; a failure keeps only
// what the page may show (consoleProblem), the cause goes to the log.
func (s *Server) advanceFinish(ctx context.Context, run advanceRun, err error) error {
	var failure *string
	if err != nil {
		prob, _ := consoleProblem(err)
		failure = &prob.Detail
	}
	return s.Q.ConsoleAdvanceFinish(context.WithoutCancel(ctx), dbq.ConsoleAdvanceFinishParams{Error: failure, Run: run.n})
}

// advanceLast is the last advance the console started, on any replica.
func (s *Server) advanceLast(ctx context.Context) (advanceRun, bool, error) {
	row, err := s.Q.ConsoleAdvanceGet(ctx, clockAdvanceWrite.Seconds())
	if errors.Is(err, db.ErrNotFound) {
		return advanceRun{}, false, nil
	}
	if err != nil {
		return advanceRun{}, false, err
	}
	run := advanceRun{n: row.Run, from: row.FromDate, to: row.ToDate, started: row.StartedAt, running: row.Running}
	switch {
	case row.Error != nil:
		run.failure = *row.Error
	case row.Orphaned:
		run.failure = advanceOrphaned
	}
	return run, true, nil
}

// consoleClock is the business date and, in sandbox mode, the advance form
// and the progress of the last advance the console started.
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
	run, ok, err := s.advanceLast(ctx)
	if err != nil {
		return v, err
	}
	if ok {
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
	var run advanceRun
	if err == nil {
		var ok bool
		if run, ok, err = s.advanceStart(ctx, from, to); err == nil && !ok {
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
		if err := s.advanceFinish(bg, run, err); err != nil {
			s.Logger.Error("console clock advance: its end not recorded", "to", to.Format(time.DateOnly), "error", err)
		}
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
	p := advanceProgress{From: run.from.Format(time.DateOnly), To: run.to.Format(time.DateOnly), Today: today.Format(time.DateOnly),
		Running: run.running, Error: run.failure}
	due, err := s.Q.LoanCountEventsDue(ctx, &run.to)
	if err != nil {
		return p, err
	}
	p.LoansDue = due
	total, done := lending.Days(run.from, run.to), lending.Days(run.from, today)
	switch {
	case !run.running && run.failure == "":
		p.Percent = 100
	case total > 0:
		p.Percent = min(done*100/total, 99)
	}
	return p, nil
}

// consoleAdvanceProgress answers the clock page's script.
func (s *Server) consoleAdvanceProgress(w http.ResponseWriter, r *http.Request) {
	run, ok, err := s.advanceLast(r.Context())
	if err == nil && !ok {
		err = errNoAdvance
	}
	if err != nil {
		s.consoleFail(w, r, err)
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
