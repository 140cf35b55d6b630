package ledger_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/ledger"
)

// postingsCounted is lendflow_ledger_postings_total{type} as /metrics serves it.
func postingsCounted(t *testing.T, typ string) float64 {
	fams, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != "lendflow_ledger_postings_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == typ {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Not parallel: no other test of the package posts while it counts.
func TestPostCountsThePostingsItWrites(t *testing.T) {
	pool := dbtest.New(t)
	inv := newUsers(t, pool, 1)[0]
	e := ledger.Recharge("rc-metrics-1", inv, d("10.00"), day)
	before := postingsCounted(t, e.Type)
	mustPost(t, pool, e)
	assert.Equal(t, before+float64(len(e.Postings)), postingsCounted(t, e.Type))
	isNew, err := post(t, pool, e)
	require.NoError(t, err)
	require.False(t, isNew)
	assert.Equal(t, before+float64(len(e.Postings)), postingsCounted(t, e.Type), "a replay writes nothing")
	wd := ledger.Withdrawal("wd-metrics-1", inv, d("1000.00"), d("0.00"), day)
	wdBefore := postingsCounted(t, wd.Type)
	_, err = post(t, pool, wd)
	require.Error(t, err, "more than the balance")
	assert.Equal(t, wdBefore, postingsCounted(t, wd.Type), "a refused entry writes nothing")
}
