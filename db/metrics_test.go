package db_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
)

func poolSeries(t *testing.T, family, pool string) (float64, bool) {
	fams, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "pool" && l.GetValue() == pool {
					if c := m.GetCounter(); c != nil {
						return c.GetValue(), true
					}
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

func TestObservePoolShowsItsFiguresUntilStopped(t *testing.T) {
	pool := dbtest.New(t)
	stop := db.ObservePool("observe-test", pool)
	var one int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT 1").Scan(&one))
	n, ok := poolSeries(t, "lendflow_db_pool_acquires_total", "observe-test")
	require.True(t, ok)
	assert.GreaterOrEqual(t, n, 1.0)
	max, _ := poolSeries(t, "lendflow_db_pool_max_connections", "observe-test")
	assert.Equal(t, float64(pool.Config().MaxConns), max)
	_, ok = poolSeries(t, "lendflow_db_pool_acquire_wait_seconds_total", "observe-test")
	assert.True(t, ok)
	stop()
	_, ok = poolSeries(t, "lendflow_db_pool_acquires_total", "observe-test")
	assert.False(t, ok, "a closed pool is not shown")
}
