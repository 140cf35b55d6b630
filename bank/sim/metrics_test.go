package sim_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank/sim"
)

func TestSimulatorServesItsMetrics(t *testing.T) {
	e := newEnv(t, sim.Config{})
	_, err := e.c.Balance(e.ctx, "no-such-account")
	require.Error(t, err)
	resp, err := http.Get(e.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	body := string(raw)
	assert.Regexp(t, `lendflow_banksim_http_requests_total\{method="GET",route="/accounts/\{accountNo\}",status="4\d\d"\} [1-9]`, body)
	assert.Contains(t, body, `lendflow_banksim_http_request_duration_seconds_bucket{method="GET",route="/accounts/{accountNo}"`)
	// The platform's client in this process counted its side of the same call.
	assert.Regexp(t, `lendflow_bank_calls_total\{operation="balance",outcome="refused"\} [1-9]`, body)
	assert.False(t, strings.Contains(body, "no-such-account"), "account numbers are never labels")
}
