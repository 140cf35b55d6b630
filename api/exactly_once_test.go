package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/workflows"
)

// platform is the API over a database, a bank simulator and a fake Temporal
// of its own, with the bid service, on 2026-01-31.
type platform struct {
	e    *testenv.Env
	s    *Server
	srv  *httptest.Server
	tc   *fakeTemporal
	bids *bidding.Service
}

func newPlatform(t *testing.T) *platform {
	t.Parallel()
	e := testenv.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.New(e.Pool, nil, nil, log)
	require.NoError(t, clk.Init(e.Ctx, clock.Sandbox, e.Today))
	tc := newFakeTemporal()
	bids := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, log)
	s := New(Deps{PasswordCost: testCost, Pool: e.Pool, Logger: log, Clock: clk, Bank: e.Bank, Accounts: e.Accounts, Bids: bids,
		Temporal: tc, HMACSecret: []byte(callbackSecret), BankFiles: e.Bank, UpdateWait: 200 * time.Millisecond})
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &platform{e: e, s: s, srv: srv, tc: tc, bids: bids}
}

func (p *platform) ops(t *testing.T) string {
	a := do(t, p.srv, "POST", "/v1/auth/login", "", "", `{"email":"ops@test.cn","password":"ops-password-1"}`)
	require.Equal(t, 200, a.status, a.raw)
	return a.body["token"].(string)
}

// person registers a user of role with a custody account holding amount.
func (p *platform) person(t *testing.T, role string, n int, amount string) (string, dbq.User) {
	t.Helper()
	email := fmt.Sprintf("%s%d@test.cn", role, n)
	tok := register(t, p.srv, email, role, n)
	card := fmt.Sprintf("62148303%09d", n)
	card += string(kyc.LuhnCheckDigit(card))
	a := do(t, p.srv, "POST", "/v1/me/custody-account", tok, "", `{"card_number":"`+card+`"}`)
	require.Equal(t, 201, a.status, a.raw)
	if amount != "" {
		a = do(t, p.srv, "POST", "/v1/me/recharges", tok, "", `{"amount":"`+amount+`"}`)
		require.Equal(t, 201, a.status, a.raw)
	}
	if role == "investor" {
		a = do(t, p.srv, "POST", "/v1/me/risk-assessment", tok, "", `{"answers":[4,4,4,4,4,4,4,4,4,4]}`)
		require.Equal(t, 200, a.status, a.raw)
	}
	u, err := p.e.Q.UserGetByEmail(p.e.Ctx, email)
	require.NoError(t, err)
	return tok, u
}

func hash16(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:16]
}

// The report, over HTTP: with the bank doing the work and answering
// 500, an investor bids 500.00 under a key and gets 202 pending; the same
// request again answers the same bid; after the sweep it answers 201
// frozen, still the same bid. 500.00 is frozen once and raised is 500.00.
func TestBidRetriedUnderKeyIsTheSameBid(t *testing.T) {
	p := newPlatform(t)
	tok, inv := p.person(t, "investor", 1, "2000.00")
	loan := p.e.ListedLoan(p.e.User("borrower", "0"), "5000.00", "C", "0.11", 6, false)
	path := fmt.Sprintf("/v1/listings/%d/bids", loan.ID)

	p.e.Sim.SetFaults(sim.FaultConfig{ErrorAfter: 1})
	first := do(t, p.srv, "POST", path, tok, "bid-1", `{"amount":"500.00"}`)
	require.Equal(t, 202, first.status, first.raw)
	assert.Equal(t, "pending", first.body["status"])
	assert.Equal(t, "500.00", first.body["amount"])
	again := do(t, p.srv, "POST", path, tok, "bid-1", `{"amount":"500.00"}`)
	require.Equal(t, 202, again.status, again.raw)
	assert.Equal(t, first.body["bid_id"], again.body["bid_id"], "the same bid, not a second")

	p.e.Sim.SetFaults(sim.FaultConfig{})
	_, err := p.bids.SettlePending(p.e.Ctx, 0, func(context.Context) (time.Time, error) { return p.e.Today, nil })
	require.NoError(t, err)
	settled := do(t, p.srv, "POST", path, tok, "bid-1", `{"amount":"500.00"}`)
	require.Equal(t, 201, settled.status, settled.raw)
	assert.Equal(t, "frozen", settled.body["status"])
	assert.Equal(t, first.body["bid_id"], settled.body["bid_id"])
	replayed := do(t, p.srv, "POST", path, tok, "bid-1", `{"amount":"500.00"}`)
	assert.Equal(t, settled.raw, replayed.raw, "a final answer is replayed")

	other := do(t, p.srv, "POST", path, tok, "bid-1", `{"amount":"600.00"}`)
	assert.Equal(t, 409, other.status)
	assert.Equal(t, "idempotency_key_reused", other.body["code"])

	after, err := p.e.Q.LoanGet(p.e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "500.00", after.Raised.StringFixed(2))
	_, frozen := p.e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "500.00", frozen)
	mine := do(t, p.srv, "GET", "/v1/me/bids", tok, "", "")
	require.Equal(t, 200, mine.status, mine.raw)
	items := mine.body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, "frozen", items[0].(map[string]any)["status"])
}

// GET /v1/me/bids: newest first, one investor's, keyset pages capped in size.
func TestMyBidsPages(t *testing.T) {
	p := newPlatform(t)
	tok, _ := p.person(t, "investor", 2, "2000.00")
	otherTok, _ := p.person(t, "investor", 3, "2000.00")
	borrowerTok, _ := p.person(t, "borrower", 4, "")
	loan := p.e.ListedLoan(p.e.User("borrower", "0"), "5000.00", "C", "0.11", 6, false)
	path := fmt.Sprintf("/v1/listings/%d/bids", loan.ID)
	var ids []any
	for _, amt := range []string{"100.00", "200.00", "300.00"} {
		a := do(t, p.srv, "POST", path, tok, "", `{"amount":"`+amt+`"}`)
		require.Equal(t, 201, a.status, a.raw)
		ids = append(ids, a.body["bid_id"])
	}
	require.Equal(t, 201, do(t, p.srv, "POST", path, otherTok, "", `{"amount":"100.00"}`).status)

	page := do(t, p.srv, "GET", "/v1/me/bids?limit=2", tok, "", "")
	require.Equal(t, 200, page.status, page.raw)
	items := page.body["items"].([]any)
	require.Len(t, items, 2)
	assert.Equal(t, []any{ids[2], ids[1]}, []any{items[0].(map[string]any)["bid_id"], items[1].(map[string]any)["bid_id"]})
	first := items[0].(map[string]any)
	assert.Equal(t, float64(loan.ID), first["loan_id"])
	assert.Equal(t, "300.00", first["amount"])
	assert.NotEmpty(t, first["created_at"])
	cursor := page.body["next_cursor"].(string)
	rest := do(t, p.srv, "GET", "/v1/me/bids?limit=2&cursor="+cursor, tok, "", "")
	require.Equal(t, 200, rest.status, rest.raw)
	require.Len(t, rest.body["items"].([]any), 1)
	assert.Nil(t, rest.body["next_cursor"])

	assert.Equal(t, 422, do(t, p.srv, "GET", "/v1/me/bids?limit=101", tok, "", "").status, "page size is capped")
	assert.Equal(t, 422, do(t, p.srv, "GET", "/v1/me/bids?cursor=x", tok, "", "").status)
	assert.Equal(t, 403, do(t, p.srv, "GET", "/v1/me/bids", borrowerTok, "", "").status)
}

// The effect committed, then the server died before it stored its answer:
// the key stays "in flight" (409 conflict) until the claim is stale, then the
// same request takes it over and answers the withdrawal the key made.
func TestWithdrawalAnsweredAfterACrash(t *testing.T) {
	p := newPlatform(t)
	tok, u := p.person(t, "investor", 5, "1000.00")
	first := do(t, p.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	require.Equal(t, 201, first.status, first.raw)
	// As a crash between the effect's commit and the stored answer leaves it.
	_, err := p.e.Pool.Exec(p.e.Ctx, `UPDATE idempotency_keys SET status_code = NULL, response = NULL WHERE key = 'wd-crash'`)
	require.NoError(t, err)
	busy := do(t, p.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	assert.Equal(t, 409, busy.status)
	assert.Equal(t, "conflict", busy.body["code"])
	_, err = p.e.Pool.Exec(p.e.Ctx, `UPDATE idempotency_keys SET created_at = now() - interval '11 minutes' WHERE key = 'wd-crash'`)
	require.NoError(t, err)
	again := do(t, p.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	require.Equal(t, 201, again.status, again.raw)
	assert.Equal(t, first.body["id"], again.body["id"], "the same withdrawal")
	var n int
	require.NoError(t, p.e.Pool.QueryRow(p.e.Ctx, `SELECT count(*) FROM withdrawals WHERE user_id = $1`, u.ID).Scan(&n))
	assert.Equal(t, 1, n)
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "the withdrawal to succeed", func() bool {
		_, err := p.e.Accounts.SettlePending(p.e.Ctx, 0)
		require.NoError(t, err)
		got, err := p.e.Q.WithdrawalGet(p.e.Ctx, int64(first.body["id"].(float64)))
		require.NoError(t, err)
		return got.Status == "succeeded"
	})
	assert.Equal(t, "700.00", do(t, p.srv, "GET", "/v1/me/account", tok, "", "").body["available"])
}

// A repayment by hand is an update whose ID derives from the caller and the
// key. The workflow does not answer within the wait: 202 processing with the
// loan to poll; the same request again is the same update (same ID), which
// answers the repayment once it has one; then the answer is replayed.
func TestRepaymentUpdateIsOneUpdatePerKey(t *testing.T) {
	p := newPlatform(t)
	tok, borrower := p.person(t, "borrower", 6, "")
	loan := p.e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	path := fmt.Sprintf("/v1/loans/%d/repayments", loan.ID)
	calls := 0
	p.tc.onUpdate = func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		calls++
		if calls == 1 {
			return stillRunning(o.UpdateID), nil
		}
		return fakeHandle{id: o.UpdateID, get: func(_ context.Context, v any) error {
			*v.(*workflows.RepayReply) = workflows.RepayReply{Amount: decimal.RequireFromString("870.50"), Status: "paid"}
			return nil
		}}, nil
	}

	slow := do(t, p.srv, "POST", path, tok, "repay-1", `{"kind":"next"}`)
	require.Equal(t, 202, slow.status, slow.raw)
	assert.Equal(t, "processing", slow.body["status"])
	assert.Equal(t, fmt.Sprintf("/v1/loans/%d", loan.ID), slow.body["poll"])
	done := do(t, p.srv, "POST", path, tok, "repay-1", `{"kind":"next"}`)
	require.Equal(t, 201, done.status, done.raw)
	assert.Equal(t, "870.50", done.body["amount"])
	replay := do(t, p.srv, "POST", path, tok, "repay-1", `{"kind":"next"}`)
	assert.Equal(t, done.raw, replay.raw)

	sent := p.tc.sentUpdates()
	require.Len(t, sent, 2, "the replay sent nothing")
	want := fmt.Sprintf("repay-%d-%s", borrower.ID, hash16("repay-1"))
	assert.Equal(t, want, sent[0].UpdateID)
	assert.Equal(t, want, sent[1].UpdateID, "the retry is the same update: Temporal runs it once")
	assert.Equal(t, workflows.UpdateRepay, sent[0].UpdateName)

	require.Equal(t, 201, do(t, p.srv, "POST", path, tok, "", `{"kind":"next"}`).status)
	assert.Empty(t, p.tc.sentUpdates()[2].UpdateID, "no key: a new update each time (the SDK names it)")
}

// Ops decisions, cancel and the disbursement retry take their update IDs
// the same way, and a refusal by the workflow stays a refusal.
func TestOpsDecisionUpdateIDs(t *testing.T) {
	p := newPlatform(t)
	ops := p.ops(t)
	opsUser, err := p.e.Q.UserGetByEmail(p.e.Ctx, "ops@test.cn")
	require.NoError(t, err)
	loan := p.e.ListedLoan(p.e.User("borrower", "0"), "5000.00", "C", "0.11", 6, false)
	a := do(t, p.srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/due-diligence", loan.ID), ops, "dd-1", `{"decision":"approve","note":"ok"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "invalid_state", a.body["code"])
	a = do(t, p.srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/disbursement/retry", loan.ID), ops, "retry-1", ``)
	assert.Equal(t, 409, a.status, a.raw)
	sent := p.tc.sentUpdates()
	require.Len(t, sent, 2)
	assert.Equal(t, fmt.Sprintf("%s-%d-%s", workflows.UpdateDueDiligence, opsUser.ID, hash16("dd-1")), sent[0].UpdateID)
	assert.Equal(t, fmt.Sprintf("%s-%d-%s", workflows.UpdateRetryDisbursal, opsUser.ID, hash16("retry-1")), sent[1].UpdateID)
}

// A loan application under a key: the workflow fails to start (503, the
// loan is closed), the retry opens the same loan again and starts it; a
// server that dies before the start (a panic here) leaves the loan
// submitted, and the retry starts it. One loan per key, one workflow.
func TestLoanApplicationUnderKey(t *testing.T) {
	p := newPlatform(t)
	tok, borrower := p.person(t, "borrower", 7, "")
	body := `{"amount":"5000.00","term_months":6,"repayment_method":"equal_installment","purpose":"shop","monthly_income":"20000.00"}`
	fails := true
	p.tc.onStart = func(client.StartWorkflowOptions) error {
		if fails {
			fails = false
			return fmt.Errorf("temporal unavailable")
		}
		return nil
	}
	first := do(t, p.srv, "POST", "/v1/loans", tok, "apply-1", body)
	require.Equal(t, 503, first.status, first.raw)
	assert.Equal(t, "unavailable", first.body["code"], "Temporal did not answer, not the bank")
	again := do(t, p.srv, "POST", "/v1/loans", tok, "apply-1", body)
	require.Equal(t, 201, again.status, again.raw)
	assert.Equal(t, "submitted", again.body["status"])
	replay := do(t, p.srv, "POST", "/v1/loans", tok, "apply-1", body)
	assert.Equal(t, again.raw, replay.raw)
	other := do(t, p.srv, "POST", "/v1/loans", tok, "apply-1", strings.Replace(body, "shop", "car", 1))
	assert.Equal(t, "idempotency_key_reused", other.body["code"])

	p.tc.onStart = func(client.StartWorkflowOptions) error { panic("the server died here") }
	crashed := do(t, p.srv, "POST", "/v1/loans", tok, "apply-2", body)
	require.Equal(t, 500, crashed.status, crashed.raw)
	p.tc.onStart = nil
	resumed := do(t, p.srv, "POST", "/v1/loans", tok, "apply-2", body)
	require.Equal(t, 201, resumed.status, resumed.raw)
	assert.NotEqual(t, again.body["loan_id"], resumed.body["loan_id"], "another key, another loan")

	loans, err := p.e.Q.LoanListByBorrower(p.e.Ctx, borrower.ID)
	require.NoError(t, err)
	require.Len(t, loans, 2)
	for _, l := range loans {
		assert.Equal(t, "submitted", string(l.Status), "loan %d", l.ID)
	}
	p.tc.mu.Lock()
	defer p.tc.mu.Unlock()
	assert.Len(t, p.tc.started, 2, "one workflow per loan")
}

// The bank's callback body may grow a field: it is accepted (and applied),
// not refused forever; the signature is still checked first.
func TestBankCallbackWithUnknownFieldIsApplied(t *testing.T) {
	p := newPlatform(t)
	tok, u := p.person(t, "investor", 8, "1000.00")
	w := do(t, p.srv, "POST", "/v1/me/withdrawals", tok, "", `{"amount":"400.00"}`)
	require.Equal(t, 201, w.status, w.raw)
	reqNo := bank.Withdrawal(int64(w.body["id"].(float64)))
	testwait.Within(10*time.Second).Every(20*time.Millisecond).For(t, "the withdrawal to succeed at the bank", func() bool {
		res, err := p.e.Bank.Query(p.e.Ctx, reqNo)
		return err == nil && res.Status == bank.StatusSucceeded
	})

	body := fmt.Sprintf(`{"request_no":%q,"kind":"withdrawal","status":"succeeded","seq":1,"account_no":%q,"amount":"400.00","fee":"0.00","business_date":"2026-01-31","channel":"super_ebank","trace":{"id":7}}`,
		reqNo, *u.CustodyAccountNo)
	send := func(secret string) answer {
		req, err := http.NewRequest("POST", p.srv.URL+"/v1/bank/callbacks", strings.NewReader(body))
		require.NoError(t, err)
		signCallback(req, secret, []byte(body), time.Now())
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, raw: string(raw)}
	}
	assert.Equal(t, 401, send("wrong").status)
	a := send(callbackSecret)
	require.Equal(t, 200, a.status, a.raw)
	assert.Contains(t, a.raw, "applied")
	got := do(t, p.srv, "GET", fmt.Sprintf("/v1/me/withdrawals/%.0f", w.body["id"].(float64)), tok, "", "")
	assert.Equal(t, "succeeded", got.body["status"])
}

// Ops list the days whose latest close is mismatched, with the differences.
func TestOpsListMismatchedDays(t *testing.T) {
	p := newPlatform(t)
	ops := p.ops(t)
	invTok, u := p.person(t, "investor", 9, "1000.00")
	day := p.e.Today
	require.NoError(t, pgx.BeginFunc(p.e.Ctx, p.e.Pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(p.e.Ctx, tx, ledger.Transfer("ghost-1", 0, ledger.TypeBonus, ledger.UserAvailable(u.ID), ledger.PlatformFee,
			decimal.RequireFromString("3.00"), "planted", day))
		return err
	}))
	require.NoError(t, pgx.BeginFunc(p.e.Ctx, p.e.Pool, func(tx pgx.Tx) error { // keep the books whole for the end checks
		_, err := ledger.Post(p.e.Ctx, tx, ledger.Transfer("ghost-1-undo", 0, ledger.TypeBonus, ledger.PlatformFee, ledger.UserAvailable(u.ID),
			decimal.RequireFromString("3.00"), "planted", day))
		return err
	}))
	_, err := reconcile.Closer{DB: p.e.Pool, Bank: p.e.Bank, Log: p.e.Log}.Close(p.e.Ctx, day.AddDate(0, 0, 1))
	require.NoError(t, err)

	a := do(t, p.srv, "GET", "/v1/ops/reconciliation?status=mismatched", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	items := a.body["items"].([]any)
	require.Len(t, items, 1, a.raw)
	item := items[0].(map[string]any)
	assert.Equal(t, "2026-01-31", item["date"])
	assert.Equal(t, "mismatched", item["status"])
	assert.Equal(t, "ok", item["conservation"])
	assert.Equal(t, "close", item["origin"])
	var keys []string
	for _, d := range item["differences"].([]any) {
		keys = append(keys, d.(map[string]any)["request_no"].(string))
	}
	assert.ElementsMatch(t, []string{"ghost-1", "ghost-1-undo"}, keys)
	assert.Empty(t, do(t, p.srv, "GET", "/v1/ops/reconciliation?status=matched", ops, "", "").body["items"])
	assert.Equal(t, 422, do(t, p.srv, "GET", "/v1/ops/reconciliation?status=pending", ops, "", "").status)
	assert.Equal(t, 403, do(t, p.srv, "GET", "/v1/ops/reconciliation", invTok, "", "").status)
}

// The client hangs up while the bank is still freezing: the bid goes on
// without it, and the same request under the same key answers that bid,
// frozen, never a second one.
func TestBidSurvivesClientHangUp(t *testing.T) {
	p := newPlatform(t)
	tok, inv := p.person(t, "investor", 1, "1000.00")
	loan := p.e.ListedLoan(p.e.User("borrower", "0"), "5000.00", "C", "0.11", 6, false)
	path := fmt.Sprintf("/v1/listings/%d/bids", loan.ID)

	p.e.Sim.SetFaults(sim.FaultConfig{Latency: 1, LatencyDuration: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", p.srv.URL+path, strings.NewReader(`{"amount":"400.00"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", "hang-up")
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the client gave up")
	p.e.Sim.SetFaults(sim.FaultConfig{})

	var a answer
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "the retry to be answered 201 once the first is done", func() bool {
		a = do(t, p.srv, "POST", path, tok, "hang-up", `{"amount":"400.00"}`)
		return a.status == 201 // 409 conflict while the first is still running
	})
	assert.Equal(t, "frozen", a.body["status"])
	bids, err := p.e.Q.BidListByLoan(p.e.Ctx, loan.ID)
	require.NoError(t, err)
	require.Len(t, bids, 1)
	_, frozen := p.e.Balance(*inv.CustodyAccountNo)
	assert.Equal(t, "400.00", frozen)
}
