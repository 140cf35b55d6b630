// Package worker hosts the loan workflow and its activities on the lendflow
// task queue.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/workflows"
)

// Tuning is the worker's pollers and execution slots (README
// "Configuration"). Zero keeps the SDK's own default for that field.
type Tuning struct {
	WorkflowPollers int // WORKER_WORKFLOW_POLLERS
	ActivityPollers int // WORKER_ACTIVITY_POLLERS
	WorkflowTasks   int // WORKER_MAX_CONCURRENT_WORKFLOW_TASKS
	Activities      int // WORKER_MAX_CONCURRENT_ACTIVITIES
}

// DefaultTuning is sized for hundreds of loans moving at once, as on a due
// date. The SDK's 2 pollers a queue left tasks waiting to be picked up
// (activities ~58 ms, workflow tasks ~72 ms, against 43 ms and 0.8 ms of
// work) while a clock advance moved many loans: a poller holds a long poll
// to the server, so a few more cost little. The slots keep the SDK's 1,000:
// an activity mostly waits on PostgreSQL or the bank, and the database pool
// is what bounds how many do at once.
var DefaultTuning = Tuning{WorkflowPollers: 8, ActivityPollers: 8}

// Options are the SDK options for a tuning.
func (t Tuning) Options() sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:       t.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       t.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize: t.WorkflowTasks,
		MaxConcurrentActivityExecutionSize:     t.Activities,
	}
}

// New registers the workflow and every activity under their frozen names.
func New(tc client.Client, acts *activities.Activities, t Tuning) sdkworker.Worker {
	w := sdkworker.New(tc, workflows.TaskQueue, t.Options())
	Register(w, acts)
	return w
}

// Registry is what registers workflows and activities: a worker, a replayer,
// the workflow test environment.
type Registry interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}

// Activities maps each activity name that lands in histories to its method.
func Activities(acts *activities.Activities) map[string]any {
	return map[string]any{
		workflows.ActivityScreen:   acts.Screen,
		workflows.ActivityList:     acts.List,
		workflows.ActivityMarkFull: acts.MarkFull,
		workflows.ActivityClose:    acts.Close,
		workflows.ActivityRecord:   acts.Record,
		workflows.ActivityDisburse: acts.Disburse,
		workflows.ActivityRepay:    acts.Repay,
		workflows.ActivityCollect:  acts.Collect,
		workflows.ActivityWriteOff: acts.WriteOff,
		workflows.ActivityRecover:  acts.Recover,

		workflows.ActivityOfferTransfer:  acts.OfferTransfer,
		workflows.ActivityBuyTransfer:    acts.BuyTransfer,
		workflows.ActivityCancelTransfer: acts.CancelTransfer,
		workflows.ActivityLapseTransfers: acts.LapseTransfers,
	}
}

// Register is shared with the replayer and tests so they see the same names.
func Register(r Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.LoanWorkflow, workflow.RegisterOptions{Name: workflows.LoanWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.RecoveryWorkflow, workflow.RegisterOptions{Name: workflows.RecoveryWorkflowName})
	if acts == nil {
		return
	}
	for name, fn := range Activities(acts) {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
