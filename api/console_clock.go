package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/console"
)

// The console's clock advance is shared by the API's replicas
// (docs/replicas.md; clock/ops.go). An advance can take minutes (every loan
// handles every event on the way), longer than a browser should wait on one
// answer: the console starts it and the clock page polls its progress.

// advanceOrphaned is the failure of an advance whose process died.
const advanceOrphaned = clock.Orphaned

// advanceStart records an advance as running on this replica, unless one is.
func (s *Server) advanceStart(ctx context.Context, from, to time.Time) (clock.Run, bool, error) {
	return s.Clock.StartRun(ctx, from, to, s.replicaID(), clockAdvanceWrite)
}

// advanceFinish records how run ended: err nil is done; a failure keeps only
// what the page may show (consoleProblem), the cause goes to the log.
func (s *Server) advanceFinish(ctx context.Context, run clock.Run, err error) error {
	var failure *string
	if err != nil {
		prob, _ := consoleProblem(err)
		failure = &prob.Detail
	}
	return s.Clock.FinishRun(ctx, run, failure)
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
	run, ok, err := s.Clock.LastRun(ctx, clockAdvanceWrite)
	if err != nil {
		return v, err
	}
	if ok {
		p, err := s.advanceProgress(ctx, run, today)
		if err != nil {
			return v, err
		}
		v.Advance = &console.Advance{From: p.From, To: p.To, Running: p.Running, Error: p.Error, LoansDue: p.LoansDue,
			Percent: p.Percent, StartedAt: run.Started.Format(time.RFC3339)}
	}
	return v, nil
}

// consoleAdvance starts a sandbox clock advance through clock.AdvanceBy, as
// POST /v1/ops/clock/advance does: the same refusals (a date before today,
// a wall clock) answered at once, the same audit entry when it is done. It
// runs on after this answer, bounded as the API's is.
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
		from, err = s.Clock.CheckAdvance(ctx, to)
	}
	var run clock.Run
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
	me, _ := userFrom(ctx)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), clockAdvanceWrite)
	go func() {
		defer cancel()
		_, _, err := s.Clock.AdvanceBy(bg, me.ID, to)
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

// advanceProgress is where an advance stands (clock.Clock.Progress), as the
// clock page's script reads it.
func (s *Server) advanceProgress(ctx context.Context, run clock.Run, today time.Time) (advanceProgress, error) {
	p, err := s.Clock.Progress(ctx, run, today)
	return progressBody(p), err
}

func progressBody(p clock.Progress) advanceProgress {
	return advanceProgress{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), Today: p.Today.Format(time.DateOnly),
		Running: p.Running, LoansDue: p.LoansDue, Percent: p.Percent, Error: p.Failure}
}

// consoleAdvanceProgress answers the clock page's script.
func (s *Server) consoleAdvanceProgress(w http.ResponseWriter, r *http.Request) {
	p, ok, err := s.Clock.LastProgress(r.Context(), clockAdvanceWrite)
	if err == nil && !ok {
		err = errNoAdvance
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	console.Headers(w)
	writeJSON(w, http.StatusOK, progressBody(p))
}
