package cost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

func ev(id int64, t enumspb.EventType) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventId: id, EventType: t}
}

// A synthetic run: start, an update, two activities (the second retried
// twice), two local activities in one workflow task and one in another, a
// timer, a signal, an upsert: 1 + 1 + (1 + 3) + 2 + 1 + 1 + 1 = 11 actions.
func TestCount(t *testing.T) {
	started := func(id, scheduled int64, attempt int32) *historypb.HistoryEvent {
		e := ev(id, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
		e.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{
			ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{ScheduledEventId: scheduled, Attempt: attempt}}
		return e
	}
	marker := func(id, task int64) *historypb.HistoryEvent {
		e := ev(id, enumspb.EVENT_TYPE_MARKER_RECORDED)
		e.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{
			MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: "LocalActivity", WorkflowTaskCompletedEventId: task}}
		return e
	}
	events := []*historypb.HistoryEvent{
		ev(1, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		ev(2, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
		ev(3, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), started(4, 3, 1),
		ev(5, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), started(6, 5, 3),
		marker(7, 6), marker(8, 6), marker(9, 20),
		ev(10, enumspb.EVENT_TYPE_TIMER_STARTED),
		ev(11, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
		ev(12, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
		ev(13, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
	}
	a := Count(events)
	assert.Equal(t, Actions{Starts: 1, Activities: 4, Local: 2, Timers: 1, Signals: 1, Updates: 1, Upserts: 1, Events: 13}, a)
	assert.Equal(t, 11, a.Total())
	assert.Equal(t, 22, a.Add(a).Total())
	assert.Equal(t, 13, a.Add(a).Events, "the longest run's length, not the sum")
}
