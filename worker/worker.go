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

// New registers the workflow and every activity under their frozen names.
func New(tc client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(tc, workflows.TaskQueue, sdkworker.Options{})
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
