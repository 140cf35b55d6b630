package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/lendflow/lendflow/logging"
)

func TestLoanIDOf(t *testing.T) {
	for id, want := range map[string]int64{"loan-42": 42, "loan-0": 0, "loan-042": 0, "loan-": 0, "clock-7": 0, "loan-4x": 0} {
		assert.Equal(t, want, loanIDOf(id), id)
	}
}

func TestActivityLoggerNamesTheWorkflow(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, logging.JSON)
	require.NoError(t, err)
	a := &Activities{log: log}
	a.logger(context.Background()).Info("outside")

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		a.logger(ctx).Info("inside")
		return nil
	}, activity.RegisterOptions{Name: "LogProbe"})
	_, err = env.ExecuteActivity("LogProbe")
	require.NoError(t, err)

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var outside, inside map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &outside))
	require.NoError(t, json.Unmarshal(lines[1], &inside))
	assert.NotContains(t, outside, logging.WorkflowID)
	assert.NotEmpty(t, inside[logging.WorkflowID])
	assert.Equal(t, "LogProbe", inside["activity"])
	assert.Equal(t, 1.0, inside["attempt"])
}
