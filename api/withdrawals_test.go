package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
)

const callbackSecret = "callback-test-secret"

// bankServer is the API over a database and a bank simulator of its own,
// on the business date 2026-01-31 (a Saturday).
func bankServer(t *testing.T) (*testenv.Env, *httptest.Server) {
	t.Parallel()
	e := testenv.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.New(e.Pool, nil, nil, log)
	require.NoError(t, clk.Init(e.Ctx, clock.Sandbox, e.Today))
	s := New(Deps{PasswordCost: testCost, Pool: e.Pool, Logger: log, Clock: clk, Bank: e.Bank, Accounts: e.Accounts, ClockMode: clock.Sandbox,
		HMACSecret: []byte(callbackSecret), BankFiles: e.Bank})
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return e, srv
}

// investorWith registers an investor with a custody account holding amount.
func investorWith(t *testing.T, srv *httptest.Server, n int, amount string) string {
	t.Helper()
	tok := register(t, srv, fmt.Sprintf("w%d@test.cn", n), "investor", n)
	card := fmt.Sprintf("62148302%09d", n)
	card += string(kyc.LuhnCheckDigit(card))
	a := do(t, srv, "POST", "/v1/me/custody-account", tok, "", `{"card_number":"`+card+`"}`)
	require.Equal(t, 201, a.status, a.raw)
	a = do(t, srv, "POST", "/v1/me/recharges", tok, "", `{"amount":"`+amount+`"}`)
	require.Equal(t, 201, a.status, a.raw)
	require.Equal(t, "succeeded", a.body["status"], a.raw)
	return tok
}

func TestWithdrawalEndpoints(t *testing.T) {
	_, srv := bankServer(t)
	inv := investorWith(t, srv, 1, "2000.00")
	other := investorWith(t, srv, 2, "10.00")

	first := do(t, srv, "POST", "/v1/me/withdrawals", inv, "wd-1", `{"amount":"500.00"}`)
	require.Equal(t, 201, first.status, first.raw)
	assert.Equal(t, "500.00", first.body["amount"])
	assert.Equal(t, "0.00", first.body["fee"], "the month's first withdrawal is free")
	assert.Equal(t, "super_ebank", first.body["route"])
	assert.Equal(t, "processing", first.body["status"])
	again := do(t, srv, "POST", "/v1/me/withdrawals", inv, "wd-1", `{"amount":"500.00"}`)
	assert.Equal(t, first.raw, again.raw, "the same key answers the first response")

	second := do(t, srv, "POST", "/v1/me/withdrawals", inv, "wd-2", `{"amount":"500.00"}`)
	require.Equal(t, 201, second.status, second.raw)
	assert.Equal(t, "3.00", second.body["fee"])

	path := fmt.Sprintf("/v1/me/withdrawals/%.0f", second.body["id"].(float64))
	got := do(t, srv, "GET", path, inv, "", "")
	require.Equal(t, 200, got.status, got.raw)
	assert.Equal(t, second.body["amount"], got.body["amount"])
	assert.Equal(t, "not_found", do(t, srv, "GET", path, other, "", "").body["code"], "another user's withdrawal does not exist for them")
	assert.Equal(t, 404, do(t, srv, "GET", "/v1/me/withdrawals/999999", inv, "", "").status)

	// 2000 − 500 − 500 − 3.00 leaves 997.00: 995.00 and its 3.00 fee do not fit.
	a := do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"995.00"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "insufficient_balance", a.body["code"])
	// Above 50,000.00 on a Saturday: the large-value system is closed.
	a = do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"50000.01"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "withdrawal_window", a.body["code"])
	a = do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"1.001"}`)
	assert.Equal(t, 422, a.status, a.raw)
}

func signedCallback(t *testing.T, srv *httptest.Server, secret string, cb bank.Callback) answer {
	t.Helper()
	return signedCallbackAt(t, srv, secret, cb, time.Now())
}

// signedCallbackAt posts cb signed as sent at at.
func signedCallbackAt(t *testing.T, srv *httptest.Server, secret string, cb bank.Callback, at time.Time) answer {
	t.Helper()
	body := fmt.Sprintf(`{"request_no":%q,"kind":"withdrawal","status":%q,"seq":%d,"account_no":%q,"amount":%q,"fee":%q,"business_date":%q}`,
		cb.RequestNo, cb.Status, cb.Seq, cb.AccountNo, cb.Amount.StringFixed(2), cb.Fee.StringFixed(2), cb.BusinessDate)
	req, err := http.NewRequest("POST", srv.URL+"/v1/bank/callbacks", strings.NewReader(body))
	require.NoError(t, err)
	signCallback(req, secret, []byte(body), at)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw), body: map[string]any{}}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// Callbacks, signed, in any order and any number of times, move the
// withdrawal once; a forged one moves nothing, nor does one signed more than
// the window ago (a capture played again, issue 25); a repeat answers
// "already_applied"; one for a number the platform never sent is
// acknowledged so the bank stops, and logged.
func TestBankCallbacksOverHTTP(t *testing.T) {
	e, srv := bankServer(t)
	inv := investorWith(t, srv, 3, "1000.00")
	w := do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"400.00"}`)
	require.Equal(t, 201, w.status, w.raw)
	id := int64(w.body["id"].(float64))
	reqNo := bank.Withdrawal(id)
	testwait.Within(10*time.Second).Every(20*time.Millisecond).For(t, "the withdrawal to succeed at the bank", func() bool {
		res, err := e.Bank.Query(e.Ctx, reqNo)
		return err == nil && res.Status == bank.StatusSucceeded
	})
	require.NoError(t, e.Bank.SetClock(e.Ctx, e.Today.AddDate(0, 0, 1)))
	_, err := e.Bank.ReverseWithdrawal(e.Ctx, reqNo)
	require.NoError(t, err)

	acct := do(t, srv, "GET", "/v1/me/account", inv, "", "")
	require.Equal(t, 200, acct.status)
	var accountNo string
	require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT custody_account_no FROM users u JOIN withdrawals w ON w.user_id = u.id WHERE w.id = $1`, id).Scan(&accountNo))
	cb := bank.Callback{RequestNo: reqNo, AccountNo: accountNo, Amount: decimal.RequireFromString("400.00"), Fee: decimal.Zero}
	succeeded, reversed := cb, cb
	succeeded.Status, succeeded.Seq, succeeded.BusinessDate = bank.StatusSucceeded, 1, "2026-01-31"
	reversed.Status, reversed.Seq, reversed.BusinessDate = bank.StatusReversed, 2, "2026-02-01"

	forged := signedCallback(t, srv, "not-the-secret", reversed)
	assert.Equal(t, 401, forged.status, forged.raw)
	assert.Equal(t, "processing", do(t, srv, "GET", fmt.Sprintf("/v1/me/withdrawals/%d", id), inv, "", "").body["status"])

	stale := signedCallbackAt(t, srv, callbackSecret, reversed, time.Now().Add(-bank.SignatureWindow-time.Minute))
	assert.Equal(t, 401, stale.status, stale.raw)
	assert.Equal(t, "unauthenticated", stale.body["code"])
	assert.Equal(t, "processing", do(t, srv, "GET", fmt.Sprintf("/v1/me/withdrawals/%d", id), inv, "", "").body["status"], "a stale callback moves nothing")

	var outcomes []any
	for _, c := range []bank.Callback{reversed, succeeded, reversed, succeeded} {
		a := signedCallback(t, srv, callbackSecret, c)
		require.Equal(t, 200, a.status, a.raw)
		outcomes = append(outcomes, a.body["status"])
	}
	assert.Equal(t, []any{"applied", "already_applied", "already_applied", "already_applied"}, outcomes,
		"a replay answers what happened: nothing")
	assert.Equal(t, "reversed", do(t, srv, "GET", fmt.Sprintf("/v1/me/withdrawals/%d", id), inv, "", "").body["status"])
	assert.Equal(t, "1000.00", do(t, srv, "GET", "/v1/me/account", inv, "", "").body["available"], "the amount came back once")

	wrong := succeeded
	wrong.Amount = decimal.RequireFromString("400.01")
	assert.Equal(t, 409, signedCallback(t, srv, callbackSecret, wrong).status, "an amount that is not the withdrawal's is refused")
	unknown := succeeded
	unknown.RequestNo = "withdrawal-999999"
	a := signedCallback(t, srv, callbackSecret, unknown)
	assert.Equal(t, 200, a.status, a.raw)
	assert.Contains(t, a.raw, "ignored")

	// Both days reconcile; ops only.
	ops := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"ops@test.cn","password":"ops-password-1"}`).body["token"].(string)
	for _, day := range []string{"2026-01-31", "2026-02-01"} {
		r := do(t, srv, "GET", "/v1/ops/reconciliation/"+day, ops, "", "")
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, "pending", r.body["status"], "%s is not over by the platform's clock", day)
		assert.Equal(t, []any{}, r.body["differences"], r.raw)
	}
	assert.Equal(t, 403, do(t, srv, "GET", "/v1/ops/reconciliation/2026-01-31", inv, "", "").status)
	assert.Equal(t, 422, do(t, srv, "GET", "/v1/ops/reconciliation/yesterday", ops, "", "").status)
}
