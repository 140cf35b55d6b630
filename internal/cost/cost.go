// Package cost counts what a workflow execution costs as Temporal Cloud bills
// it, in "actions", from its recorded history (TEMPORAL.md "Cost";
// docs/workflow.md "Cost"). Actions per loan is the platform's cost metric.
package cost

import (
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// Actions is one run's billable actions, by kind.
type Actions struct {
	Starts     int // the run's start (a Continue-As-New starts the next run)
	Activities int // activity attempts: a retry is another action
	Local      int // workflow tasks that ran local activities (each counts once)
	Timers     int
	Signals    int
	Updates    int // accepted updates
	Upserts    int // search-attribute upserts
	Children   int // child workflows, 2 actions each
	Events     int // the run's history length (not billed; kept under 500)
}

// Total is the billable actions.
func (a Actions) Total() int {
	return a.Starts + a.Activities + a.Local + a.Timers + a.Signals + a.Updates + a.Upserts + 2*a.Children
}

// Add sums two counts; Events becomes the larger, the longest run's.
func (a Actions) Add(b Actions) Actions {
	return Actions{
		Starts: a.Starts + b.Starts, Activities: a.Activities + b.Activities, Local: a.Local + b.Local,
		Timers: a.Timers + b.Timers, Signals: a.Signals + b.Signals, Updates: a.Updates + b.Updates,
		Upserts: a.Upserts + b.Upserts, Children: a.Children + b.Children, Events: max(a.Events, b.Events),
	}
}

// Count counts one run's history.
func Count(events []*historypb.HistoryEvent) Actions {
	var a Actions
	a.Events = len(events)
	localTasks := map[int64]bool{}
	scheduled := map[int64]int{} // activity scheduled event id → attempts seen
	for _, e := range events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			a.Starts++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			scheduled[e.GetEventId()] = 1
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			// Only the last attempt's start is recorded; its number says how
			// many attempts there were.
			attr := e.GetActivityTaskStartedEventAttributes()
			if n := int(attr.GetAttempt()); n > scheduled[attr.GetScheduledEventId()] {
				scheduled[attr.GetScheduledEventId()] = n
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if attr := e.GetMarkerRecordedEventAttributes(); attr.GetMarkerName() == "LocalActivity" {
				localTasks[attr.GetWorkflowTaskCompletedEventId()] = true
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a.Timers++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a.Updates++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			a.Upserts++
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			a.Children++
		}
	}
	for _, n := range scheduled {
		a.Activities += n
	}
	a.Local = len(localTasks)
	return a
}
