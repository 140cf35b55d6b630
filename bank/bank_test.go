package bank_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
)

func TestRequestNo(t *testing.T) {
	require.Equal(t, "loan-42-installment-3-repay", bank.RequestNo("loan", int64(42), "installment", 3, "repay"))
	require.Equal(t, "bid-7-freeze", bank.BidFreeze(7))
	require.Equal(t, "bid-7-unfreeze", bank.BidUnfreeze(7))
	require.Equal(t, "loan-9-disburse-2", bank.Disbursement(9, 2))
	require.Equal(t, "loan-9-installment-4-repay-1", bank.Repayment(9, 4, 1))
	require.Equal(t, "recharge-5", bank.Recharge(5))
	require.Equal(t, "withdrawal-5", bank.Withdrawal(5))
	require.Equal(t, "user-3-open-account", bank.OpenAccount(3))
	require.Equal(t, "user-3-change-card-1", bank.ChangeCard(3, 1))
	require.NotEqual(t, bank.Recharge(5), bank.Withdrawal(5), "kinds never collide")
	require.Panics(t, func() { bank.RequestNo("loan", 1.5) }, "a float is not identity")
	require.Panics(t, func() { bank.RequestNo("at", time.Now()) }, "nor is the clock")
}

// TestSignVerify: a callback's signature covers its timestamp and body, and
// one sent more than the window from now is refused (issue 25).
func TestSignVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"request_no":"w-1","status":"succeeded"}`)
	now := time.Unix(1_780_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := bank.Sign(secret, now.Unix(), body)
	require.Len(t, sig, 64)
	require.NoError(t, bank.VerifyCallback(secret, ts, sig, body, now))
	require.NoError(t, bank.VerifyCallback(secret, ts, sig, body, now.Add(bank.SignatureWindow)), "at the window's edge")
	require.ErrorIs(t, bank.VerifyCallback(secret, ts, sig, body, now.Add(bank.SignatureWindow+time.Second)), bank.ErrStale, "a replay later")
	require.ErrorIs(t, bank.VerifyCallback(secret, ts, sig, body, now.Add(-bank.SignatureWindow-time.Second)), bank.ErrStale)
	require.ErrorIs(t, bank.VerifyCallback(secret, strconv.FormatInt(now.Unix()+600, 10), sig, body, now.Add(10*time.Minute)), bank.ErrBadSignature,
		"a timestamp made fresh is not the one signed")
	require.ErrorIs(t, bank.VerifyCallback(secret, ts, sig, append(body, ' '), now), bank.ErrBadSignature)
	require.ErrorIs(t, bank.VerifyCallback([]byte("other"), ts, sig, body, now), bank.ErrBadSignature)
	require.ErrorIs(t, bank.VerifyCallback(secret, ts, "zz"+sig[2:], body, now), bank.ErrBadSignature)
	require.ErrorIs(t, bank.VerifyCallback(secret, ts, "", body, now), bank.ErrUnsigned)
	require.ErrorIs(t, bank.VerifyCallback(secret, "", sig, body, now), bank.ErrUnsigned)
	require.ErrorIs(t, bank.VerifyCallback(nil, ts, bank.Sign(nil, now.Unix(), body), body, now), bank.ErrBadSignature, "no secret, no trust")
}

// TestClientClassifies checks the one place HTTP answers become errors.
func TestClientClassifies(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		code      string
		retryable bool
	}{
		{422, `{"code":"insufficient_balance","message":"no"}`, bank.CodeInsufficientBalance, false},
		{409, `{"code":"request_no_reused","message":"no"}`, bank.CodeRequestNoReused, false},
		{404, `404 page not found`, bank.CodeInvalidRequest, false},
		{400, `{"code":"invalid_request","message":"bad"}`, bank.CodeInvalidRequest, false},
		{503, `{"code":"fault_before_work","message":"down"}`, "fault_before_work", true},
		{502, `<html>bad gateway</html>`, bank.CodeUnavailable, true},
		{429, ``, bank.CodeUnavailable, true},
		{408, ``, bank.CodeUnavailable, true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := bank.NewHTTPClient(srv.URL, nil).Freeze(context.Background(), bank.FreezeRequest{RequestNo: "f"})
		srv.Close()
		var be *bank.Error
		require.ErrorAs(t, err, &be, "HTTP %d", tc.status)
		require.Equal(t, tc.code, be.Code, "HTTP %d", tc.status)
		require.Equal(t, tc.retryable, be.Retryable, "HTTP %d", tc.status)
	}

	// A success we cannot read, and no answer at all, are unknown outcomes.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{")) }))
	_, err := bank.NewHTTPClient(srv.URL, nil).Query(context.Background(), "x")
	srv.Close()
	var be *bank.Error
	require.Error(t, err)
	require.False(t, errors.As(err, &be))
	_, err = bank.NewHTTPClient(srv.URL, nil).Query(context.Background(), "x")
	require.Error(t, err)
	require.False(t, errors.As(err, &be), "transport errors are not refusals")
}

func TestReconciliationRoundTrip(t *testing.T) {
	at := time.Date(2024, 3, 1, 2, 3, 4, 5000, time.UTC)
	in := []bank.ReconciliationLine{
		{RequestNo: "w-1", Type: bank.MoveWithdrawal, From: "CA1", To: bank.CardAccount("6222"), Amount: decimal.RequireFromString("1.5"),
			Status: bank.StatusSucceeded, BusinessDate: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Time: at, Purpose: "super_ebank"},
		{RequestNo: "b-1", Item: 2, Type: bank.MoveBatch, From: "CA1", To: "CA2", Amount: decimal.RequireFromString("100"),
			Status: bank.StatusSucceeded, BusinessDate: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Time: at, FreezeRequestNo: "bid-1-freeze", Purpose: "a, \"quoted\" purpose"},
	}
	var buf bytes.Buffer
	buf.WriteString("request_no,item,type,from,to,amount,status,business_date,time,freeze_request_no,purpose\n")
	for _, l := range in {
		rec := l.Record()
		require.Equal(t, len(bank.ReconciliationHeader), len(rec))
		buf.WriteString(csvLine(rec))
	}
	out, err := bank.ParseReconciliation(&buf)
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.Equal(t, "1.50", in[0].Record()[5])
	for i := range in {
		require.True(t, in[i].Amount.Equal(out[i].Amount))
		out[i].Amount = in[i].Amount
		require.Equal(t, in[i], out[i])
	}
	_, err = bank.ParseReconciliation(bytes.NewBufferString("request_no,oops\n"))
	require.Error(t, err)
}

func csvLine(rec []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	return b.String()
}
