package api

import (
	"context"
	"sync"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/errs"
)

// fakeTemporal stands in for the Temporal client in API tests: it records
// what the API sent and answers through the hooks, or by default as a
// workflow that refuses every update (invalid_state), starts every workflow
// and takes every signal. Any other method panics: the API calling it is news.
type fakeTemporal struct {
	client.Client

	mu       sync.Mutex
	updates  []client.UpdateWorkflowOptions
	starts   []client.StartWorkflowOptions
	onUpdate func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	onStart  func(o client.StartWorkflowOptions) error
	started  map[string]bool
	args     map[string][]any
	// onGet answers GetWorkflow(id).Get with the result of the workflow
	// started under id with args; without it GetWorkflow panics.
	onGet func(ctx context.Context, id string, args []any, valuePtr any) error
}

func newFakeTemporal() *fakeTemporal {
	return &fakeTemporal{started: map[string]bool{}, args: map[string][]any{}}
}

func (f *fakeTemporal) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	f.updates = append(f.updates, o)
	hook := f.onUpdate
	f.mu.Unlock()
	if hook != nil {
		return hook(ctx, o)
	}
	return nil, temporal.NewNonRetryableApplicationError("the loan is not in a state for "+o.UpdateName, errs.InvalidState, nil)
}

func (f *fakeTemporal) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	f.starts = append(f.starts, o)
	hook := f.onStart
	f.mu.Unlock()
	if hook != nil {
		if err := hook(o); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started[o.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "")
	}
	f.started[o.ID] = true
	f.args[o.ID] = args
	return nil, nil
}

func (f *fakeTemporal) GetWorkflow(ctx context.Context, id, runID string) client.WorkflowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onGet == nil {
		panic("fakeTemporal: GetWorkflow without onGet")
	}
	args, get := f.args[id], f.onGet
	return fakeRun{get: func(ctx context.Context, valuePtr any) error { return get(ctx, id, args, valuePtr) }}
}

// fakeRun is a started workflow whose Get runs get.
type fakeRun struct {
	client.WorkflowRun
	get func(ctx context.Context, valuePtr any) error
}

func (r fakeRun) Get(ctx context.Context, valuePtr any) error { return r.get(ctx, valuePtr) }

func (f *fakeTemporal) DescribeWorkflowExecution(ctx context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started[id] {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{}, nil
}

func (f *fakeTemporal) SignalWorkflow(ctx context.Context, id, runID, name string, arg any) error {
	return nil
}

func (f *fakeTemporal) sentUpdates() []client.UpdateWorkflowOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.UpdateWorkflowOptions(nil), f.updates...)
}

// fakeHandle is an update's handle whose Get runs get.
type fakeHandle struct {
	id  string
	get func(ctx context.Context, valuePtr any) error
}

func (h fakeHandle) WorkflowID() string                          { return "" }
func (h fakeHandle) RunID() string                               { return "" }
func (h fakeHandle) UpdateID() string                            { return h.id }
func (h fakeHandle) Get(ctx context.Context, valuePtr any) error { return h.get(ctx, valuePtr) }

// stillRunning is a handle for an update that never finishes in time.
func stillRunning(id string) fakeHandle {
	return fakeHandle{id: id, get: func(ctx context.Context, _ any) error {
		<-ctx.Done()
		return client.NewWorkflowUpdateServiceTimeoutOrCanceledError(ctx.Err())
	}}
}
