package logging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/lendflow/lendflow/kyc"
)

// Personal data is masked here, in the handler every process logs through,
// rather than at each call: an error wrapping a bank answer, a request body
// quoted in a message or a struct logged whole would each otherwise be one
// forgotten call away from writing a full number (docs/security.md
// "Personal data"). Whole words only (\b), so the digits inside an id such as
// a trace id's hex are left alone.
var (
	idNumberRe = regexp.MustCompile(`\b\d{17}[\dXx]\b`)
	phoneRe    = regexp.MustCompile(`\b1\d{10}\b`)
	// Bank cards are 12 to 19 digits; an ID number (18) is masked first.
	cardRe = regexp.MustCompile(`\b\d{12,19}\b`)
)

// Mask is s with every ID number, mobile phone and card number in it masked
// as ops see them (kyc.Mask*).
func Mask(s string) string {
	s = idNumberRe.ReplaceAllStringFunc(s, kyc.MaskIDNumber)
	s = phoneRe.ReplaceAllStringFunc(s, kyc.MaskPhone)
	return cardRe.ReplaceAllStringFunc(s, kyc.MaskCard)
}

// maskAttr is the handlers' ReplaceAttr: the message and every value that is
// or prints as a string.
func maskAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); v.Kind() {
	case slog.KindString:
		if m := Mask(v.String()); m != v.String() {
			a.Value = slog.StringValue(m)
		}
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if m := Mask(s); m != s {
			a.Value = slog.StringValue(m)
		}
	}
	return a
}

// Masking wraps h so that what it writes has personal data masked, for the
// loggers not made by New (the bank simulator's, a test's).
func Masking(h slog.Handler) slog.Handler { return maskingHandler{h} }

type maskingHandler struct{ h slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskDeep(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskDeep(a)
	}
	return maskingHandler{m.h.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.h.WithGroup(name)}
}

func maskDeep(a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = maskDeep(x)
		}
		return slog.Group(a.Key, out...)
	}
	return maskAttr(nil, a)
}
