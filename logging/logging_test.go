package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormats(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, JSON)
	require.NoError(t, err)
	l.Info("hello", LoanID, 42)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), "JSON, one object a line: %s", buf.String())
	assert.Equal(t, "hello", line["msg"])
	assert.Equal(t, 42.0, line[LoanID])

	buf.Reset()
	l, err = New(&buf, Text)
	require.NoError(t, err)
	l.Debug("not shown")
	l.Info("hello", LoanID, 42)
	assert.True(t, strings.HasPrefix(buf.String(), "time="), buf.String())
	assert.Contains(t, buf.String(), "loan_id=42")

	_, err = New(&buf, "xml")
	assert.Error(t, err)
}

func TestFromContext(t *testing.T) {
	fallback := slog.New(slog.DiscardHandler)
	assert.Same(t, fallback, From(context.Background(), fallback))
	l := slog.New(slog.DiscardHandler).With(RequestID, "r1")
	assert.Same(t, l, From(Into(context.Background(), l), fallback))
}
