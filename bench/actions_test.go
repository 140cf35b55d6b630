package bench

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

func ev(t enumspb.EventType, attrs ...func(*historypb.HistoryEvent)) *historypb.HistoryEvent {
	e := &historypb.HistoryEvent{EventType: t}
	for _, f := range attrs {
		f(e)
	}
	return e
}

func attempt(n int32) func(*historypb.HistoryEvent) {
	return func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{
			ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{Attempt: n}}
	}
}

func marker(name string, task int64) func(*historypb.HistoryEvent) {
	return func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{
			MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: name, WorkflowTaskCompletedEventId: task}}
	}
}

// A synthetic loan: two runs (the second by Continue-As-New), one activity
// retried twice, local activities in two workflow tasks, a timer, a signal,
// two accepted updates, an upsert and a child workflow.
func TestCountActionsOnASyntheticHistory(t *testing.T) {
	run1 := []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, attempt(3)),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_MARKER_RECORDED, marker("LocalActivity", 2)),
		ev(enumspb.EVENT_TYPE_MARKER_RECORDED, marker("LocalActivity", 2)),
		ev(enumspb.EVENT_TYPE_MARKER_RECORDED, marker("Version", 2)),
		ev(enumspb.EVENT_TYPE_TIMER_STARTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW),
	}
	run2 := []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		ev(enumspb.EVENT_TYPE_MARKER_RECORDED, marker("LocalActivity", 3)),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, attempt(1)),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), // still pending: billed once scheduled
		ev(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
	}
	a := CountActions(run1, run2)
	assert.Equal(t, Actions{Runs: 2, Activities: 3, ActivityRetries: 2, Timers: 1, Signals: 1, Updates: 2,
		SearchAttributes: 1, LocalActivityTasks: 2, ChildWorkflows: 1, MaxRunEvents: 14, Events: 22}, a)
	// 2 + 3 + 2 + 1 + 1 + 2 + 1 + 2 + 2×1
	assert.Equal(t, 16, a.Total())
}

// The 3-installment loan the end-to-end test records (workflows/testdata).
func TestCountActionsOfTheRecordedLoan(t *testing.T) {
	paths, err := filepath.Glob("../workflows/testdata/loan_repaid_run*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var runs [][]*historypb.HistoryEvent
	for _, p := range paths {
		events, err := ReadHistory(p)
		require.NoError(t, err)
		runs = append(runs, events)
	}
	a := CountActions(runs...)
	assert.Equal(t, len(paths), a.Runs)
	assert.Positive(t, a.Activities)
	assert.Equal(t, a.Runs+a.Activities+a.ActivityRetries+a.Timers+a.Signals+a.Updates+a.SearchAttributes+a.LocalActivityTasks+2*a.ChildWorkflows, a.Total())
	t.Logf("recorded 3-installment loan: %v", a)
}
