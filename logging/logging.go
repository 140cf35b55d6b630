// Package logging builds the processes' slog loggers (JSON in production,
// text for a person at a terminal) and carries a request's logger in its
// context, so every line of one request names the request, the caller and the
// loan it is about.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Formats of LOG_FORMAT.
const (
	JSON = "json"
	Text = "text"
)

// New is a logger writing format (JSON or Text) to w at Info and above, with
// personal data masked in every line (Mask).
func New(w io.Writer, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: maskAttr}
	switch format {
	case JSON, "":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case Text:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", format)
}

type ctxKey struct{}

// Into returns ctx carrying l, the logger From answers below it.
func Into(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From is the logger Into put in ctx, or fallback when there is none.
func From(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// Attribute names every process uses for the same thing, so one query finds
// a loan's lines across the API, the worker and the bank.
const (
	RequestID  = "request_id"
	UserID     = "user_id"
	LoanID     = "loan_id"
	WorkflowID = "workflow_id"
	RunID      = "run_id"
)
