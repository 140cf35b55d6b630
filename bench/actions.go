// Package bench measures lendflow on a running stack: the hot listing
// against pgbench -N, the fleet and the month's clock against the Temporal
// dev server's raw ceiling, and the Temporal actions a loan costs
// (BENCHMARKS.md). The benchmarks are tests skipped unless LENDFLOW_BENCH=1,
// so make test stays fast; CountActions is an ordinary tested function any
// test may call.
package bench

import (
	"context"
	"fmt"
	"os"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// Actions are what Temporal Cloud bills for the runs of one workflow
// (docs/workflow.md "Cost"): each run's start (Continue-As-New included), every
// activity attempt, timers, signals received and sent, updates accepted,
// search-attribute upserts, the local activities of one workflow task once,
// and two per child workflow. Queries are billed too but leave no event, so a
// history cannot count them.
type Actions struct {
	Runs               int // WorkflowExecutionStarted, one per run
	Activities         int // ActivityTaskScheduled
	ActivityRetries    int // attempts after the first (ActivityTaskStarted.attempt − 1)
	Timers             int // TimerStarted
	Signals            int // WorkflowExecutionSignaled and SignalExternalWorkflowExecutionInitiated
	Updates            int // WorkflowExecutionUpdateAccepted
	SearchAttributes   int // UpsertWorkflowSearchAttributes
	LocalActivityTasks int // workflow tasks that recorded at least one local activity
	ChildWorkflows     int // StartChildWorkflowExecutionInitiated, billed twice
	MaxRunEvents       int // events in the largest run
	Events             int // events in all runs
}

// Total is the billed actions.
func (a Actions) Total() int {
	return a.Runs + a.Activities + a.ActivityRetries + a.Timers + a.Signals + a.Updates +
		a.SearchAttributes + a.LocalActivityTasks + 2*a.ChildWorkflows
}

func (a Actions) String() string {
	return fmt.Sprintf("%d actions: %d runs, %d activities (+%d retries), %d timers, %d signals, %d updates, %d search-attribute upserts, %d local-activity tasks, %d child workflows; largest run %d events",
		a.Total(), a.Runs, a.Activities, a.ActivityRetries, a.Timers, a.Signals, a.Updates, a.SearchAttributes, a.LocalActivityTasks, a.ChildWorkflows, a.MaxRunEvents)
}

// localActivityMarker is the marker name the Go SDK records a local activity under.
const localActivityMarker = "LocalActivity"

// CountActions counts the actions of the given runs of one workflow (each
// run's events in order, as GetWorkflowHistory returns them).
func CountActions(runs ...[]*historypb.HistoryEvent) Actions {
	var a Actions
	for _, events := range runs {
		a.Events += len(events)
		a.MaxRunEvents = max(a.MaxRunEvents, len(events))
		laTasks := map[int64]bool{}
		for _, ev := range events {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				a.Runs++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				a.Activities++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if n := ev.GetActivityTaskStartedEventAttributes().GetAttempt(); n > 1 {
					a.ActivityRetries += int(n) - 1
				}
			case enumspb.EVENT_TYPE_TIMER_STARTED:
				a.Timers++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
				enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
				a.Signals++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				a.Updates++
			case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
				a.SearchAttributes++
			case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
				a.ChildWorkflows++
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				m := ev.GetMarkerRecordedEventAttributes()
				if m.GetMarkerName() == localActivityMarker {
					laTasks[m.GetWorkflowTaskCompletedEventId()] = true
				}
			}
		}
		a.LocalActivityTasks += len(laTasks)
	}
	return a
}

// ReadHistory reads one run's history as JSON (the form
// e2e's recordHistories writes and `temporal workflow show -o json` prints).
func ReadHistory(path string) ([]*historypb.HistoryEvent, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h historypb.History
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h.GetEvents(), nil
}

// FetchRuns reads every run of a workflow from Temporal, first run first,
// following the Continue-As-New chain back from the latest.
func FetchRuns(ctx context.Context, tc client.Client, workflowID string) ([][]*historypb.HistoryEvent, error) {
	var runs [][]*historypb.HistoryEvent
	runID := ""
	for {
		it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var events []*historypb.HistoryEvent
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("%s run %q: %w", workflowID, runID, err)
			}
			events = append(events, ev)
		}
		if len(events) == 0 {
			return nil, fmt.Errorf("%s run %q: no events", workflowID, runID)
		}
		runs = append([][]*historypb.HistoryEvent{events}, runs...)
		runID = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if runID == "" {
			return runs, nil
		}
	}
}
