package clock

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/workflows"
)

// updates stands for Temporal: each advance-clock update blocks until the
// test lets it answer, so the test sees how many are in flight at once.
type updates struct {
	client.Client
	mu       sync.Mutex
	inFlight int
	most     int
	told     map[string]bool
	full     chan struct{} // closed when the cap is first reached
	release  chan struct{}
	cap      int
}

func (u *updates) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	u.mu.Lock()
	u.inFlight++
	u.most = max(u.most, u.inFlight)
	u.told[o.WorkflowID] = true
	if u.inFlight == u.cap {
		select {
		case <-u.full:
		default:
			close(u.full)
		}
	}
	u.mu.Unlock()
	<-u.release
	u.mu.Lock()
	u.inFlight--
	u.mu.Unlock()
	return answered{}, nil
}

type answered struct{ client.WorkflowUpdateHandle }

func (answered) Get(_ context.Context, out any) error {
	*out.(*workflows.ClockReply) = workflows.ClockReply{Seq: 1}
	return nil
}

// A date goes to CLOCK_PARALLEL loans at once, never more, and to every loan
// due.
func TestTellKeepsParallelUpdatesInFlight(t *testing.T) {
	const loans, parallel = 40, 16
	u := &updates{told: map[string]bool{}, full: make(chan struct{}), release: make(chan struct{}), cap: parallel}
	c := New(dbtest.New(t), u, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).WithParallel(parallel)
	var due []dbq.LoanListDueEventsRow
	for i := range loans {
		due = append(due, dbq.LoanListDueEventsRow{ID: int64(1000 + i), WorkflowID: fmt.Sprintf("loan-%d", 1000+i)})
	}
	done := make(chan error)
	go func() { done <- c.tell(context.Background(), due, time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)) }()
	<-u.full // parallel updates wait together: the cap is reached, not only allowed
	close(u.release)
	require.NoError(t, <-done)
	assert.Equal(t, parallel, u.most, "never more than CLOCK_PARALLEL in flight")
	assert.Len(t, u.told, loans)
}

func TestWithParallelKeepsTheDefaultBelowOne(t *testing.T) {
	c := New(nil, nil, nil, nil)
	assert.Equal(t, DefaultParallel, c.WithParallel(0).parallel)
	assert.Equal(t, 3, c.WithParallel(3).parallel)
}
