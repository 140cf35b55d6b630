package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/logging"
)

// TestLogsHoldNoPersonalData runs the API and the worker as processes (JSON
// logs, as in production) and the bank simulator with a logger of the
// processes' kind, through what carries personal data: registrations, a
// registration refused for a verified number, account openings (the bank's
// four-factor check), a refused one, recharges, a withdrawal, a card change,
// ops' searches by phone and ID number and a reveal.
// Then it reads every log the run wrote and looks for each full ID number,
// phone and card number it used (docs/security.md "Personal data").
func TestLogsHoldNoPersonalData(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the platform's processes")
	}
	logDir := t.TempDir()
	keepLogsIn(t, logDir)
	bankLog, err := os.Create(filepath.Join(logDir, "bank.log"))
	require.NoError(t, err)
	t.Cleanup(func() { bankLog.Close() })
	s := launch(t, "2026-03-02", func(_ *app.Config, c *sim.Config) {
		c.Logger, err = logging.New(bankLog, logging.JSON)
		require.NoError(t, err)
	}, true)

	var secrets []string
	a, b := s.signUp("investor", "李四"), s.signUp("borrower", "张三")
	for _, n := range []int{s.last() - 1, s.last()} {
		body := fmt.Sprintf("33010619900301%03d", n)
		secrets = append(secrets, body+string(kyc.IDCheckChar(body)), fmt.Sprintf("1380000%04d", n), cardFor(n))
	}
	// The same ID number as a's, verified already: refused, naming nothing.
	s.call("POST", "/v1/auth/register", "", obj{"email": "dup@lendflow.test", "password": "password-123", "role": "investor",
		"name": "冒名", "id_number": secrets[0], "phone": "13900009999"}, 409)
	secrets = append(secrets, "13900009999")
	// A registration whose card fails its check digit at the platform, and
	// one the bank refuses (a card of someone else's four factors).
	seq := s.next()
	body := fmt.Sprintf("33010619900301%03d", seq)
	id, phone := body+string(kyc.IDCheckChar(body)), fmt.Sprintf("1380000%04d", seq)
	c := s.call("POST", "/v1/auth/register", "", obj{"email": "c@lendflow.test", "password": "password-123", "role": "investor",
		"name": "孙七", "id_number": id, "phone": phone}, 201)
	require.NotNil(t, c["user_id"])
	tok := s.call("POST", "/v1/auth/login", "", obj{"email": "c@lendflow.test", "password": "password-123"}, 200)["token"].(string)
	bad := cardFor(seq)
	bad = bad[:len(bad)-1] + string("0123456789"[(strings.IndexByte("0123456789", bad[len(bad)-1])+1)%10])
	s.call("POST", "/v1/me/custody-account", tok, obj{"card_number": bad}, 422)
	secrets = append(secrets, id, phone, bad)

	s.call("POST", "/v1/me/recharges", a.token, obj{"amount": "1000.00"}, 201)
	s.call("POST", "/v1/me/withdrawals", a.token, obj{"amount": "100.00"}, 201)
	// Ops look the investor up by phone and by ID number: a search's query
	// string is in the request's URL.
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
	for _, q := range secrets[:2] {
		found := s.call("GET", "/v1/ops/users?q="+q, ops, nil, 200)["items"].([]any)
		require.Len(t, found, 1, q)
	}
	s.call("POST", fmt.Sprintf("/v1/ops/users/%.0f/reveal", a.id), ops, obj{"reason": "the customer called"}, 200)
	newCard := cardFor(900)
	s.call("POST", "/v1/me/card", b.token, obj{"card_number": newCard}, 200)
	secrets = append(secrets, newCard)

	lines, masked := 0, 0
	logs, err := filepath.Glob(filepath.Join(logDir, "*.log"))
	require.NoError(t, err)
	require.Len(t, logs, 3, "api, worker, bank: %v", logs)
	for _, f := range logs {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		lines += strings.Count(string(raw), "\n")
		masked += strings.Count(string(raw), "****")
		for _, secret := range secrets {
			assert.NotContains(t, string(raw), secret, "%s holds a full number", filepath.Base(f))
		}
	}
	assert.Greater(t, lines, 10, "the run wrote logs to read")
	t.Logf("%d log lines read, %d masked numbers in them, no full one", lines, masked)
}
