package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// recordHistories writes every run of a workflow (following the
// Continue-As-New chain back from the latest) as JSON for the replay tests in
// workflows/testdata, when LENDFLOW_RECORD_HISTORIES names a folder.
func recordHistories(t *testing.T, tc client.Client, workflowID, name string) {
	dir := os.Getenv("LENDFLOW_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	ctx := context.Background()
	runID := ""
	for run := 0; ; run++ {
		it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		h := &historypb.History{}
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			h.Events = append(h.Events, ev)
		}
		require.NotEmpty(t, h.Events)
		raw, err := protojson.Marshal(h)
		require.NoError(t, err)
		path := filepath.Join(dir, fmt.Sprintf("%s_run%02d.json", name, run))
		require.NoError(t, os.WriteFile(path, raw, 0o644))
		prev := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			return
		}
		runID = prev
	}
}
