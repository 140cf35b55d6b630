package bank

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every call the client makes has an operation name of its own.
func TestEveryClientCallHasAnOperation(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, Operation(r.Method, r.URL.Path))
		if strings.HasPrefix(r.URL.Path, "/admin/clock") && r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"today":"2026-01-31"}`))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/reconciliation/") {
			_, _ = w.Write([]byte(strings.Join(ReconciliationHeader, ",") + "\n"))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := NewHTTPClient(srv.URL, nil)
	ctx := context.Background()
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	_, _ = c.OpenAccount(ctx, OpenAccountRequest{})
	_, _ = c.ChangeCard(ctx, ChangeCardRequest{})
	_, _ = c.Recharge(ctx, RechargeRequest{})
	_, _ = c.Withdraw(ctx, WithdrawRequest{})
	_, _ = c.Freeze(ctx, FreezeRequest{})
	_, _ = c.Unfreeze(ctx, UnfreezeRequest{})
	_, _ = c.Transfer(ctx, TransferRequest{})
	_, _ = c.Batch(ctx, BatchRequest{})
	_, _ = c.Query(ctx, "bid-7-freeze")
	_, _ = c.Balance(ctx, "6222-01")
	_ = c.SetClock(ctx, day)
	_, _ = c.Clock(ctx)
	_, _ = c.Reconciliation(ctx, day)
	_, _ = c.Deposit(ctx, DepositRequest{})
	_, _ = c.ReverseWithdrawal(ctx, "wd-1")
	_ = c.SetFaults(ctx, map[string]any{})
	assert.Equal(t, []string{"open_account", "change_card", "recharge", "withdraw", "freeze", "unfreeze", "transfer",
		"batch", "query", "balance", "set_clock", "clock", "reconciliation", "deposit", "reverse_withdrawal", "set_faults"}, got)
	assert.Equal(t, "freeze", Operation("POST", "/bank/v1/freezes"), "a base URL with a path")
	assert.Equal(t, "other", Operation("DELETE", "/freezes"))
}

func TestBankCallsByOperationAndOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/transfers":
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"code":"insufficient_balance","message":"no"}`))
		case "/batches":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte(`{"request_no":"x","status":"succeeded"}`))
		}
	}))
	c := NewHTTPClient(srv.URL, nil)
	ctx := context.Background()
	count := func(op, outcome string) float64 { return testutil.ToFloat64(bankCalls.WithLabelValues(op, outcome)) }
	before := map[string]float64{"freeze": count("freeze", OutcomeOK), "transfer": count("transfer", OutcomeRefused),
		"batch": count("batch", OutcomeUnavailable), "unfreeze": count("unfreeze", OutcomeError)}

	_, err := c.Freeze(ctx, FreezeRequest{RequestNo: "bid-1-freeze"})
	require.NoError(t, err)
	_, err = c.Freeze(ctx, FreezeRequest{RequestNo: "bid-2-freeze"})
	require.NoError(t, err)
	_, err = c.Transfer(ctx, TransferRequest{RequestNo: "t-1"})
	require.Error(t, err)
	_, err = c.Batch(ctx, BatchRequest{RequestNo: "b-1"})
	require.Error(t, err)
	srv.Close()
	_, err = c.Unfreeze(ctx, UnfreezeRequest{RequestNo: "u-1"})
	require.Error(t, err, "nobody answers")

	assert.Equal(t, before["freeze"]+2, count("freeze", OutcomeOK))
	assert.Equal(t, before["transfer"]+1, count("transfer", OutcomeRefused))
	assert.Equal(t, before["batch"]+1, count("batch", OutcomeUnavailable))
	assert.Equal(t, before["unfreeze"]+1, count("unfreeze", OutcomeError))
	assert.Positive(t, testutil.CollectAndCount(bankCallDuration, "lendflow_bank_call_duration_seconds"))
}
