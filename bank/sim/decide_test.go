package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The n-th decision for a key depends on the seed alone, so a run replays.
func TestFaultDecisionsReplay(t *testing.T) {
	draw := func(seed int64) []bool {
		f := newFaults(seed, FaultConfig{})
		var out []bool
		for i := 0; i < 200; i++ {
			out = append(out, f.hit(0.5, pointErrorBefore, "req-"+string(rune('a'+i%7))))
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	hits := 0
	for _, h := range a {
		if h {
			hits++
		}
	}
	require.InDelta(t, 100, hits, 30, "a rate of 0.5 hits about half")

	f := newFaults(1, FaultConfig{})
	require.False(t, f.hit(0, pointErrorBefore, "x"))
	require.True(t, f.hit(1, pointErrorBefore, "x"))
}

func TestFaultConfigJSON(t *testing.T) {
	in := FaultConfig{Latency: 0.25, LatencyDuration: 250 * time.Millisecond, BatchFail: 1, ReorderHold: time.Second}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"latency":0.25,"latency_duration":"250ms","error_before":0,"error_after":0,"timeout_after":0,
		"callback_drop":0,"callback_delay":0,"callback_duplicate":0,"callback_reorder":0,"reorder_hold":"1s",
		"batch_fail":1,"withdrawal_reversal":0}`, string(b))
	var out FaultConfig
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)
	require.Error(t, json.Unmarshal([]byte(`{"latnecy":1}`), &out), "a misspelt fault is refused")
	require.Error(t, json.Unmarshal([]byte(`{"error_before":1.5}`), &out))
	require.Error(t, json.Unmarshal([]byte(`{"latency_duration":"soon"}`), &out))
}
