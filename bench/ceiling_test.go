package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The Temporal dev server's raw ceiling on this machine, measured in the
// same run as the figures it is compared with: workflows that do nothing but
// run n no-op activities in turn, on a worker in this process (BENCHMARKS.md).
// The ceiling the targets name is the one with the SDK's default options;
// the fleet also measures it with the options the stack's worker runs with,
// so a gain from those options is not counted as the platform's.
const ceilingQueue = "bench-ceiling"

func ceilingWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range n {
		if err := workflow.ExecuteActivity(ctx, "noop").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

type ceilingResult struct {
	workflowsPerSec, activitiesPerSec float64
	workflows, activities             int
	wfElapsed, actElapsed             time.Duration
}

func (c ceilingResult) String() string {
	return fmt.Sprintf("%.0f one-activity workflows/s (%d in %s), %.0f activities/s (%d in %s)",
		c.workflowsPerSec, c.workflows, c.wfElapsed.Round(time.Millisecond), c.activitiesPerSec, c.activities, c.actElapsed.Round(time.Millisecond))
}

func measureCeiling(t *testing.T, tc client.Client, queue string, opts sdkworker.Options) ceilingResult {
	w := sdkworker.New(tc, queue, opts)
	w.RegisterWorkflowWithOptions(ceilingWorkflow, workflow.RegisterOptions{Name: "CeilingWorkflow"})
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "noop"})
	require.NoError(t, w.Start())
	defer w.Stop()
	ctx := context.Background()
	run := func(tag string, workflows, activities, inFlight int) time.Duration {
		start := time.Now()
		errs := make([]error, workflows)
		parallel(workflows, inFlight, func(i int) {
			run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("ceiling-%s-%d-%d", tag, start.UnixNano(), i), TaskQueue: queue}, "CeilingWorkflow", activities)
			if err == nil {
				err = run.Get(ctx, nil)
			}
			errs[i] = err
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		return time.Since(start)
	}
	run("warm", 20, 1, 20)
	var c ceilingResult
	c.workflows = 400
	c.wfElapsed = run("wf", c.workflows, 1, 64)
	c.workflowsPerSec = float64(c.workflows) / c.wfElapsed.Seconds()
	const wfs, each = 50, 30
	c.activities = wfs * each
	c.actElapsed = run("act", wfs, each, wfs)
	c.activitiesPerSec = float64(c.activities) / c.actElapsed.Seconds()
	return c
}
