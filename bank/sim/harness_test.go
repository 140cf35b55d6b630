package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
)

var secret = []byte("test-secret-not-for-production")

// apiKey is the platform's request-signing key in these tests.
var apiKey = []byte("test-api-key-not-for-production")

// env is one simulator on a schema of its own, served over HTTP, with the
// platform's client pointed at it and a callback receiver standing in for the
// platform.
type env struct {
	t   *testing.T
	ctx context.Context
	sim *sim.Sim
	c   *bank.HTTPClient
	cb  *receiver
	url string
	n   atomic.Int64
	// inFlight counts the requests the simulator is still answering, a late
	// one (the latency fault) among them.
	inFlight atomic.Int64
}

func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.NewWith(t, dbtest.Migration{FS: sim.Migrations(), Table: sim.MigrationTable})
	rcv := newReceiver(t)
	cfg.Pool = pool
	cfg.CallbackURL = rcv.srv.URL
	cfg.HMACSecret = secret
	if cfg.APIKey == nil {
		cfg.APIKey = apiKey
	}
	if cfg.WithdrawalDelay == 0 {
		cfg.WithdrawalDelay = 50 * time.Millisecond
	}
	s, err := sim.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	e := &env{t: t, ctx: ctx, sim: s, cb: rcv}
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.c, e.url = bank.NewHTTPClient(srv.URL, &http.Client{Timeout: 5 * time.Second}, bank.WithAPIKey(apiKey)), srv.URL
	// Runs first at cleanup: whatever the test did, the bank's books hold.
	t.Cleanup(func() { require.NoError(t, s.Check(ctx), "bank books after %s", t.Name()) })
	return e
}

func (e *env) srvURL() string { return e.url }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// no gives a fresh request number.
func (e *env) no(prefix string) string { return fmt.Sprintf("%s-%d", prefix, e.n.Add(1)) }

var idSeq atomic.Int64

// person is four valid factors, unique per call.
func person() bank.OpenAccountRequest {
	n := idSeq.Add(1)
	first17 := fmt.Sprintf("11010519900101%03d", n%1000)
	card := fmt.Sprintf("62220200%010d", n)
	return bank.OpenAccountRequest{
		Kind: bank.KindInvestor, Name: "张三", IDNumber: first17 + string(kyc.IDCheckChar(first17)),
		Phone: "13800138000", CardNumber: card + string(kyc.LuhnCheckDigit(card)),
	}
}

type acct struct{ no, card string }

// open opens an account and recharges it with amount (when not zero).
func (e *env) open(amount string) acct {
	e.t.Helper()
	p := person()
	p.RequestNo = e.no("open")
	res, err := e.c.OpenAccount(e.ctx, p)
	require.NoError(e.t, err)
	require.NotEmpty(e.t, res.AccountNo)
	a := acct{no: res.AccountNo, card: p.CardNumber}
	if amount != "0" {
		e.recharge(a, amount)
	}
	return a
}

func (e *env) recharge(a acct, amount string) {
	e.t.Helper()
	res, err := e.c.Recharge(e.ctx, bank.RechargeRequest{RequestNo: e.no("rc"), AccountNo: a.no, CardNumber: a.card, Amount: dec(amount)})
	require.NoError(e.t, err)
	require.Equal(e.t, bank.StatusSucceeded, res.Status)
}

// balance asserts an account's balances to the cent.
func (e *env) balance(account, available, frozen string) {
	e.t.Helper()
	b, err := e.c.Balance(e.ctx, account)
	require.NoError(e.t, err)
	require.Equal(e.t, available, b.Available.StringFixed(2), "%s available", account)
	require.Equal(e.t, frozen, b.Frozen.StringFixed(2), "%s frozen", account)
}

// waitStatus polls the request until it reaches status.
func (e *env) waitStatus(reqNo string, status bank.Status) bank.Result {
	e.t.Helper()
	var res bank.Result
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(e.t, reqNo+" to become "+string(status), func() bool {
		var err error
		res, err = e.c.Query(e.ctx, reqNo)
		return err == nil && res.Status == status
	})
	return res
}

func (e *env) faults(f sim.FaultConfig) { e.sim.SetFaults(f) }

// settled waits until the bank has answered every request sent to it, late
// ones included, and done every job due: what it does on its own time is
// then done, and a test may assert what did not happen.
func (e *env) settled() {
	e.t.Helper()
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(e.t, "the bank to settle", func() bool {
		idle, err := e.sim.Idle(e.ctx)
		require.NoError(e.t, err)
		return idle && e.inFlight.Load() == 0
	})
}

func refusedWith(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	var be *bank.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, code, be.Code, "%v", err)
	require.False(t, be.Retryable, "a refusal is final")
}

// receiver is the platform's callback endpoint: it verifies each signature
// and keeps the callbacks in arrival order. failFirst answers 500 to that
// many deliveries, to exercise the bank's retries.
type receiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	got       []bank.Callback
	bodies    [][]byte
	bad       int
	failFirst atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.failFirst.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if bank.VerifyCallback(secret, req.Header.Get(bank.CallbackTimestampHeader), req.Header.Get(bank.SignatureHeader), body, time.Now()) != nil {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var cb bank.Callback
		if err := json.Unmarshal(body, &cb); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got = append(r.got, cb)
		r.bodies = append(r.bodies, body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// of returns the callbacks received for a request, in arrival order.
func (r *receiver) of(reqNo string) []bank.Callback {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bank.Callback
	for _, c := range r.got {
		if c.RequestNo == reqNo {
			out = append(out, c)
		}
	}
	return out
}

func (e *env) waitCallbacks(reqNo string, n int) []bank.Callback {
	e.t.Helper()
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(e.t, fmt.Sprintf("%d callbacks of %s", n, reqNo), func() bool { return len(e.cb.of(reqNo)) >= n })
	return e.cb.of(reqNo)
}
