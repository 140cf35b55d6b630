package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/metrics"
)

// requestSeen is what the request's access line learns while the request
// runs: the signed-in user is known only inside requireRole's context, which
// the middleware around it never sees.
type requestSeen struct{ userID atomic.Int64 }

type requestSeenKey struct{}

// requestLog puts a logger naming the request ID in the request's context
// (s.log fetches it) and writes one access line per request: method, route
// pattern, status, duration and, when known, the user.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		seen := &requestSeen{}
		l := s.Logger.With(logging.RequestID, middleware.GetReqID(r.Context()))
		ctx := logging.Into(context.WithValue(r.Context(), requestSeenKey{}, seen), l)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []any{"method", r.Method, "route", metrics.RoutePattern(r), "status", status,
				"duration_ms", float64(time.Since(start).Microseconds()) / 1000}
			if id := seen.userID.Load(); id != 0 {
				attrs = append(attrs, logging.UserID, id)
			}
			if id := loanIDParam(ctx); id != 0 {
				attrs = append(attrs, logging.LoanID, id)
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			l.Log(ctx, level, "request", attrs...)
		}()
		next.ServeHTTP(ww, r.WithContext(ctx))
	})
}

// log is the logger for a request's context: its request ID, the signed-in
// user (user_id) and the loan the route names (loan_id), where they apply.
// Outside a request it is the server's logger.
func (s *Server) log(ctx context.Context) *slog.Logger {
	l := logging.From(ctx, nil)
	if l == nil {
		// Outside requestLog (a handler tested alone): still name the request.
		l = s.Logger
		if id := middleware.GetReqID(ctx); id != "" {
			l = l.With(logging.RequestID, id)
		}
	}
	if u, ok := userFrom(ctx); ok {
		noteUser(ctx, u.ID)
		l = l.With(logging.UserID, u.ID)
	}
	if id := loanIDParam(ctx); id != 0 {
		l = l.With(logging.LoanID, id)
	}
	return l
}

// noteUser tells the request's access line who the caller is. requireRole
// is the place that knows first; the handlers' log lines and error answers
// also call it.
func noteUser(ctx context.Context, id int64) {
	if seen, ok := ctx.Value(requestSeenKey{}).(*requestSeen); ok {
		seen.userID.Store(id)
	}
}

// loanIDParam is the loan a route names: {id} under /v1/loans,
// /v1/ops/loans and /v1/listings (a listing is named by its loan). Zero when
// none.
func loanIDParam(ctx context.Context) int64 {
	rc := chi.RouteContext(ctx)
	if rc == nil {
		return 0
	}
	var v string
	if p := rc.RoutePattern(); strings.Contains(p, "/loans/{id}") || strings.Contains(p, "/listings/{id}") {
		v = rc.URLParam("id")
	}
	id, _ := strconv.ParseInt(v, 10, 64)
	return id
}
