package reconcile_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/reconcile"
)

// counter reads a counter of the default registry, where package reconcile
// declares its own (metrics.go's convention).
func counter(t *testing.T, name string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// errorLogs are the error-level records a logger wrote, by message.
func errorLogs(t *testing.T, buf *bytes.Buffer) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["level"] == "ERROR" {
			out = append(out, rec["msg"].(string))
		}
	}
	return out
}

// The close audits the whole ledger too. A freeze both sides agree on but
// with no bid behind it breaks conservation (frozen = frozen bids): the file
// matches, the day does not. It is stored mismatched with the violations,
// logged at error level, counted, and listed for ops; once mended, the next
// close matches it. Not parallel: it reads process-wide counters.
func TestCloseAuditsConservation(t *testing.T) {
	e := testenv.New(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	u := e.User("investor", "1000.00")
	day, later := e.Today, e.Today.AddDate(0, 0, 1)
	hundred := decimal.RequireFromString("100.00")
	_, err := e.Bank.Freeze(e.Ctx, bank.FreezeRequest{RequestNo: "orphan", AccountNo: *u.CustodyAccountNo, Amount: hundred})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(e.Ctx, tx, ledger.Freeze("orphan", u.ID, hundred, "no bid", day))
		return err
	}))
	days, failures := counter(t, "lendflow_reconcile_mismatched_days_total"), counter(t, "lendflow_reconcile_conservation_failures_total")

	reps, err := reconcile.Closer{DB: e.Pool, Bank: e.Bank, Log: log, RetryAfter: time.Hour}.Close(e.Ctx, later)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	assert.Equal(t, reconcile.Mismatched, reps[0].Status)
	assert.Empty(t, reps[0].Differences, "the bank's file and the ledger agree")
	assert.Equal(t, reconcile.ConservationViolated, reps[0].Conservation)
	require.Len(t, reps[0].ConservationViolations, 1)
	assert.Contains(t, reps[0].ConservationViolations[0], "frozen balance 100.00, frozen bids 0.00")
	assert.Equal(t, days+1, counter(t, "lendflow_reconcile_mismatched_days_total"))
	assert.Equal(t, failures+1, counter(t, "lendflow_reconcile_conservation_failures_total"))
	assert.Equal(t, []string{"reconciliation: the ledger does not conserve money", "reconciliation: the bank's file and the ledger differ"}, errorLogs(t, &logs))

	run, err := e.Q.ReconciliationRunLatest(e.Ctx, day)
	require.NoError(t, err)
	assert.Equal(t, reconcile.ConservationViolated, run.Conservation)
	var stored []string
	require.NoError(t, json.Unmarshal(run.ConservationViolations, &stored))
	assert.Equal(t, reps[0].ConservationViolations, stored)
	listed, err := reconcile.ListClosed(e.Ctx, e.Q, reconcile.Mismatched, nil, 10)
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.Equal(t, reps[0], listed[0].Report)

	// Mended on the same day: the next close (a mismatch is retried after
	// RetryAfter) matches the day and the list is empty.
	_, err = e.Bank.Unfreeze(e.Ctx, bank.UnfreezeRequest{RequestNo: "orphan-release", FreezeRequestNo: "orphan"})
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(e.Ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(e.Ctx, tx, ledger.Unfreeze("orphan-release", u.ID, hundred, "no bid", day))
		return err
	}))
	reps, err = reconcile.Closer{DB: e.Pool, Bank: e.Bank, Log: log, RetryAfter: 0}.Close(e.Ctx, later)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	assert.Equal(t, reconcile.Matched, reps[0].Status)
	assert.Equal(t, reconcile.ConservationOK, reps[0].Conservation)
	listed, err = reconcile.ListClosed(e.Ctx, e.Q, reconcile.Mismatched, nil, 10)
	require.NoError(t, err)
	assert.Empty(t, listed)
}
