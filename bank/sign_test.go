package bank_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
)

func TestVerifyRequest(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"request_no":"recharge-1","amount":"100.00"}`)
	sig := bank.RequestSignature(key, "POST", "/recharges", now.Unix(), body)
	ts := strconv.FormatInt(now.Unix(), 10)
	require.NoError(t, bank.VerifyRequest(key, "POST", "/recharges", ts, sig, body, now))
	require.NoError(t, bank.VerifyRequest(key, "POST", "/recharges", ts, sig, body, now.Add(bank.SignatureWindow)), "at the window's edge")

	for name, tc := range map[string]struct {
		key                  []byte
		method, uri, ts, sig string
		body                 string
		at                   time.Time
		want                 error
	}{
		"unsigned":        {key, "POST", "/recharges", "", "", string(body), now, bank.ErrUnsigned},
		"no timestamp":    {key, "POST", "/recharges", "", sig, string(body), now, bank.ErrUnsigned},
		"another key":     {[]byte("other"), "POST", "/recharges", ts, sig, string(body), now, bank.ErrBadSignature},
		"no key at all":   {nil, "POST", "/recharges", ts, sig, string(body), now, bank.ErrBadSignature},
		"body changed":    {key, "POST", "/recharges", ts, sig, `{"request_no":"recharge-1","amount":"900.00"}`, now, bank.ErrBadSignature},
		"path changed":    {key, "POST", "/withdrawals", ts, sig, string(body), now, bank.ErrBadSignature},
		"method changed":  {key, "PUT", "/recharges", ts, sig, string(body), now, bank.ErrBadSignature},
		"time changed":    {key, "POST", "/recharges", strconv.FormatInt(now.Unix()+1, 10), sig, string(body), now, bank.ErrBadSignature},
		"replayed late":   {key, "POST", "/recharges", ts, sig, string(body), now.Add(bank.SignatureWindow + time.Second), bank.ErrStale},
		"from the future": {key, "POST", "/recharges", ts, sig, string(body), now.Add(-bank.SignatureWindow - time.Second), bank.ErrStale},
		"not hex":         {key, "POST", "/recharges", ts, "zz" + sig[2:], string(body), now, bank.ErrBadSignature},
	} {
		assert.ErrorIs(t, bank.VerifyRequest(tc.key, tc.method, tc.uri, tc.ts, tc.sig, []byte(tc.body), tc.at), tc.want, name)
	}
}

// The client signs every request it sends, over the bytes it sends.
func TestHTTPClientSignsRequests(t *testing.T) {
	key := []byte("platform-key")
	var verified []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verified = append(verified, bank.VerifyRequest(key, r.Method, r.URL.RequestURI(),
			r.Header.Get(bank.TimestampHeader), r.Header.Get(bank.RequestSignatureHeader), body, time.Now()))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"request_no":"x","status":"succeeded"}`))
	}))
	defer srv.Close()
	c := bank.NewHTTPClient(srv.URL, nil, bank.WithAPIKey(key))
	_, err := c.Recharge(context.Background(), bank.RechargeRequest{RequestNo: "recharge-1", AccountNo: "A 1/2"})
	require.NoError(t, err)
	_, err = c.Query(context.Background(), "withdrawal-1/x y")
	require.NoError(t, err)
	assert.Equal(t, []error{nil, nil}, verified, "a body and an escaped path both verify")

	// A refused signature is no refusal of the request: the bank did nothing,
	// so the call is retryable under the same number, never booked as failed.
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":"unauthenticated","message":"the request is not signed"}`))
	}))
	defer deny.Close()
	_, err = bank.NewHTTPClient(deny.URL, nil).Recharge(context.Background(), bank.RechargeRequest{RequestNo: "recharge-2"})
	var be *bank.Error
	require.ErrorAs(t, err, &be)
	assert.True(t, be.Retryable)
}
