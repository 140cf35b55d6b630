package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/workflows"
)

func opsToken(t *testing.T, s *Server, srv *httptest.Server) string {
	t.Helper()
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	return login(t, srv, "ops@test.cn", "ops-password-1")
}

func userID(t *testing.T, s *Server, email string) int64 {
	t.Helper()
	u, err := s.q().UserGetByEmail(context.Background(), email)
	require.NoError(t, err)
	return u.ID
}

type auditRow struct {
	OpsUserID    int64
	Action       string
	Target, Note string
}

func auditRows(t *testing.T, s *Server) []auditRow {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT ops_user_id, action, target, note FROM audit_log ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		require.NoError(t, rows.Scan(&r.OpsUserID, &r.Action, &r.Target, &r.Note))
		out = append(out, r)
	}
	return out
}

// A locked user cannot withdraw (account_locked); lock and unlock are
// audited with who, what and why.
func TestUserLockStopsWithdrawalsAndIsAudited(t *testing.T) {
	s, srv := bankedServer(t)
	inv := investorWith(t, srv, 1, "2000.00")
	ops := login(t, srv, "ops@test.cn", "ops-password-1")
	invID := userID(t, s, "w1@test.cn")
	opsID := userID(t, s, "ops@test.cn")
	lock := fmt.Sprintf("/v1/ops/users/%d/lock", invID)

	a := do(t, srv, "POST", lock, ops, "", `{"locked":true,"note":"card reported stolen"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, map[string]any{"user_id": float64(invID), "locked": true}, a.body)
	a = do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"100.00"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "account_locked", a.body["code"])

	a = do(t, srv, "POST", lock, ops, "", `{"locked":false,"note":"card replaced"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, false, a.body["locked"])
	a = do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"100.00"}`)
	assert.Equal(t, 201, a.status, "unlocked, the withdrawal goes: %s", a.raw)

	assert.Equal(t, []auditRow{
		{opsID, "user_lock", fmt.Sprintf("user:%d", invID), "card reported stolen"},
		{opsID, "user_unlock", fmt.Sprintf("user:%d", invID), "card replaced"},
	}, auditRows(t, s))

	for body, field := range map[string]string{`{"locked":true}`: "note", `{"note":"x"}`: "locked", `{"locked":true,"note":"   "}`: "note"} {
		a = do(t, srv, "POST", lock, ops, "", body)
		assert.Equal(t, 422, a.status, body)
		assert.Equal(t, field, a.body["errors"].([]any)[0].(map[string]any)["field"], body)
	}
	for _, path := range []string{"/v1/ops/users/999999/lock", "/v1/ops/users/abc/lock", "/v1/ops/users/99999999999999999999999/lock"} {
		a = do(t, srv, "POST", path, ops, "", `{"locked":true,"note":"x"}`)
		assert.Equal(t, 404, a.status, path)
		assert.Equal(t, "not_found", a.body["code"], path)
	}
	assert.Len(t, auditRows(t, s), 2, "refused requests record nothing")
}

// An insufficient balance says how much is available, from the ledger.
func TestRefusalFiguresComeFromThePlatform(t *testing.T) {
	_, srv := bankServer(t)
	inv := investorWith(t, srv, 1, "2000.00")
	a := do(t, srv, "POST", "/v1/me/withdrawals", inv, "", `{"amount":"5000.00"}`)
	require.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "insufficient_balance", a.body["code"])
	assert.Equal(t, "2000.00", a.body["available"])
	assert.Equal(t, detailByCode["insufficient_balance"], a.body["detail"])
}

// The blacklist: 201 once, 409 after; the audit log names the number
// masked, the blacklist row keeps it with who added it.
func TestBlacklistAdd(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	id := validID(7)
	a := do(t, srv, "POST", "/v1/ops/blacklist", ops, "", `{"id_number":"`+id+`","note":"forged documents"}`)
	require.Equal(t, 201, a.status, a.raw)
	assert.Equal(t, id, a.body["id_number"])
	a = do(t, srv, "POST", "/v1/ops/blacklist", ops, "", `{"id_number":"`+id+`","note":"again"}`)
	assert.Equal(t, 409, a.status)
	assert.Equal(t, "conflict", a.body["code"])
	a = do(t, srv, "POST", "/v1/ops/blacklist", ops, "", `{"id_number":"110105194912310022","note":"x"}`)
	assert.Equal(t, 422, a.status, "a bad check digit")

	black, err := s.q().BlacklistHas(context.Background(), pii.Hash(id))
	require.NoError(t, err)
	assert.True(t, black, "screening reads this")
	assert.Equal(t, []auditRow{{userID(t, s, "ops@test.cn"), "blacklist_add", "id_number:" + kyc.MaskIDNumber(id), "forged documents"}}, auditRows(t, s))
	var addedBy int64
	require.NoError(t, s.Pool.QueryRow(context.Background(), `SELECT added_by FROM blacklist WHERE id_number_hash = $1`, pii.Hash(id)).Scan(&addedBy))
	assert.Equal(t, userID(t, s, "ops@test.cn"), addedBy)
}

// GET /v1/ops/audit: newest first, by pages, by target or action.
func TestAuditList(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	register(t, srv, "a@test.cn", "investor", 1)
	uid := userID(t, s, "a@test.cn")
	for i, locked := range []bool{true, false, true} {
		a := do(t, srv, "POST", fmt.Sprintf("/v1/ops/users/%d/lock", uid), ops, "", fmt.Sprintf(`{"locked":%v,"note":"step %d"}`, locked, i))
		require.Equal(t, 200, a.status, a.raw)
	}
	a := do(t, srv, "POST", "/v1/ops/blacklist", ops, "", `{"id_number":"`+validID(8)+`","note":"ring"}`)
	require.Equal(t, 201, a.status, a.raw)

	page := do(t, srv, "GET", "/v1/ops/audit?limit=3", ops, "", "")
	require.Equal(t, 200, page.status, page.raw)
	items := page.body["items"].([]any)
	require.Len(t, items, 3)
	first := items[0].(map[string]any)
	assert.Equal(t, "blacklist_add", first["action"], "newest first")
	assert.Equal(t, float64(userID(t, s, "ops@test.cn")), first["ops_user_id"])
	assert.NotEmpty(t, first["at"])
	assert.Equal(t, "step 2", items[1].(map[string]any)["note"])
	next := page.body["next_cursor"].(string)
	page = do(t, srv, "GET", "/v1/ops/audit?limit=3&cursor="+next, ops, "", "")
	require.Equal(t, 200, page.status)
	require.Len(t, page.body["items"], 1)
	assert.Equal(t, "step 0", page.body["items"].([]any)[0].(map[string]any)["note"])
	assert.Nil(t, page.body["next_cursor"])

	byTarget := do(t, srv, "GET", fmt.Sprintf("/v1/ops/audit?target=user:%d&action=user_lock", uid), ops, "", "")
	require.Equal(t, 200, byTarget.status)
	assert.Len(t, byTarget.body["items"], 2)
	for _, q := range []string{"action=delete_everything", "limit=101", "limit=0", "cursor=-1", "cursor=" + strings.Repeat("9", 30)} {
		a := do(t, srv, "GET", "/v1/ops/audit?"+q, ops, "", "")
		assert.Equal(t, 422, a.status, q)
		assert.Equal(t, "validation_failed", a.body["code"], q)
	}
}

// decisionServer is the API over a Temporal client that answers every
// update with reply (or refuses it with refusal), recording what was sent.
func decisionServer(t *testing.T, reply lending.Status, refusal error) (*Server, *httptest.Server, *[]client.UpdateWorkflowOptions) {
	s, srv := testServer(t)
	tc := mocks.NewClient(t)
	var sent []client.UpdateWorkflowOptions
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Maybe().Return(func(_ context.Context, v any) error {
		if refusal != nil {
			return refusal
		}
		v.(*workflows.StatusReply).Status = reply
		return nil
	})
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Maybe().Return(func(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		sent = append(sent, o)
		return h, nil
	})
	s.Temporal = tc
	s.wire()
	return s, srv, &sent
}

func seededLoan(t *testing.T, s *Server, borrowerEmail string, status lending.Status) dbq.Loan {
	t.Helper()
	ctx := context.Background()
	l, err := s.q().LoanInsert(ctx, dbq.LoanInsertParams{
		BorrowerID: userID(t, s, borrowerEmail), Amount: decimal.RequireFromString("60000.00"), TermMonths: 3, RepaymentMethod: "equal_installment",
		Purpose: "shop", MonthlyIncome: decimal.RequireFromString("50000.00"), WorkflowID: "loan-seeded-" + borrowerEmail, AppliedOn: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	_, err = s.Pool.Exec(ctx, `UPDATE loans SET status = $2 WHERE id = $1`, l.ID, status)
	require.NoError(t, err)
	return l
}

// Every ops decision is audited once it is made, with the decision, any new
// grade and rate, and the ops user's note; a refused one records nothing.
func TestOpsDecisionsAreAudited(t *testing.T) {
	s, srv, sent := decisionServer(t, lending.StatusApproved, nil)
	ops := opsToken(t, s, srv)
	register(t, srv, "b@test.cn", "borrower", 1)
	loan := seededLoan(t, s, "b@test.cn", lending.StatusDueDiligence)
	opsID := userID(t, s, "ops@test.cn")

	a := do(t, srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/due-diligence", loan.ID), ops, "",
		`{"decision":"approve","grade":"B","annual_rate":"0.085","note":"income verified"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "approved", a.body["status"])
	a = do(t, srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/disbursement/retry", loan.ID), ops, "", "")
	require.Equal(t, 202, a.status, a.raw)
	a = do(t, srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/write-off", loan.ID), ops, "", `{"decision":"reject","note":"still paying"}`)
	require.Equal(t, 200, a.status, a.raw)
	target := fmt.Sprintf("loan:%d", loan.ID)
	assert.Equal(t, []auditRow{
		{opsID, "due_diligence", target, "approve grade B rate 0.085: income verified"},
		{opsID, "disbursement_retry", target, "status approved"},
		{opsID, "write_off", target, "reject: still paying"},
	}, auditRows(t, s))
	require.Len(t, *sent, 3)
	assert.Equal(t, workflows.UpdateDueDiligence, (*sent)[0].UpdateName)
}

func TestRefusedDecisionsRecordNothingAndLeakNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		refusal      error
		status       int
		code, absent string
	}{
		"invalid state": {temporal.NewApplicationError("loan is listed (workflow run 8c1f)", "invalid_state"), 409, "invalid_state", "8c1f"},
		"not a refusal": {temporal.NewApplicationError("runtime error: index out of range [3] at loan.go:412", "PanicError"), 500, "internal", "loan.go"},
	} {
		t.Run(name, func(t *testing.T) {
			s, srv, _ := decisionServer(t, "", tc.refusal)
			ops := opsToken(t, s, srv)
			register(t, srv, "b@test.cn", "borrower", 1)
			loan := seededLoan(t, s, "b@test.cn", lending.StatusListed)
			a := do(t, srv, "POST", fmt.Sprintf("/v1/ops/loans/%d/full-tender-review", loan.ID), ops, "", `{"decision":"approve","note":"ok"}`)
			assert.Equal(t, tc.status, a.status, a.raw)
			assert.Equal(t, tc.code, a.body["code"])
			assert.NotContains(t, a.raw, tc.absent)
			assert.Empty(t, auditRows(t, s))
		})
	}
}

// The borrower sees an ops decision as a neutral line; ops see the note.
func TestHistoryNotesByAudience(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	b := register(t, srv, "b@test.cn", "borrower", 1)
	loan := seededLoan(t, s, "b@test.cn", lending.StatusWrittenOff)
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	rows := []struct {
		status      lending.Status
		note, shown string
	}{
		{lending.StatusSubmitted, "application received", "application received"},
		{lending.StatusApproved, "due diligence: income verified by phone with the employer", "due diligence: approved"},
		{lending.StatusRejected, "due diligence: suspected fraud ring", "due diligence: rejected"},
		{lending.StatusDisbursing, "full-tender review: ok", "full-tender review: approved"},
		{lending.StatusReviewRejected, "full-tender review: investors look related", "full-tender review: rejected"},
		{lending.StatusOverdue, "write-off declined: borrower called, pays Friday", "write-off declined"},
		{lending.StatusWrittenOff, "written off (核销): uncollectable, skipped town", "written off (核销)"},
	}
	for i, r := range rows {
		require.NoError(t, s.q().LoanHistoryInsert(context.Background(), dbq.LoanHistoryInsertParams{
			LoanID: loan.ID, Seq: int32(i), Status: r.status, BusinessDate: day, Note: r.note}))
	}
	notes := func(token string) []string {
		a := do(t, srv, "GET", fmt.Sprintf("/v1/loans/%d", loan.ID), token, "", "")
		require.Equal(t, 200, a.status, a.raw)
		var out []string
		for _, h := range a.body["history"].([]any) {
			out = append(out, h.(map[string]any)["note"].(string))
		}
		return out
	}
	var full, shown []string
	for _, r := range rows {
		full, shown = append(full, r.note), append(shown, r.shown)
	}
	assert.Equal(t, full, notes(ops))
	assert.Equal(t, shown, notes(b))
}

// In wall mode the sandbox clock's advance does not exist; in sandbox mode
// it is audited, and never goes back.
func TestClockAdvanceRoute(t *testing.T) {
	wall := New(Deps{Logger: testLogger(), ClockMode: clock.Wall})
	rec := httptest.NewRecorder()
	wall.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/ops/clock/advance", strings.NewReader(`{"to":"2026-02-01"}`)))
	assert.Equal(t, 404, rec.Code)
	assert.Contains(t, rec.Body.String(), `"code":"not_found"`)

	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	a := do(t, srv, "POST", "/v1/ops/clock/advance", ops, "", `{"to":"2026-02-03"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "2026-02-03", a.body["today"])
	a = do(t, srv, "POST", "/v1/ops/clock/advance", ops, "", `{"to":"2026-02-01"}`)
	assert.Equal(t, 422, a.status)
	assert.Equal(t, "to", a.body["errors"].([]any)[0].(map[string]any)["field"])
	assert.Equal(t, []auditRow{{userID(t, s, "ops@test.cn"), "clock_advance", "clock:2026-02-03", "from 2026-01-31"}}, auditRows(t, s))
}

func registerAs(t *testing.T, srv *httptest.Server, email, role, id, phone string) answer {
	t.Helper()
	return do(t, srv, "POST", "/v1/auth/register", "", "",
		`{"email":"`+email+`","password":"password-1","role":"`+role+`","name":"张三","id_number":"`+id+`","phone":"`+phone+`"}`)
}

// Probe 2 of issue 10: a stranger registered first with a person's ID
// number and phone. The person still registers and opens their custody
// account; the first to verify a number at the bank holds it, so then the
// stranger's opening, and any later registration with it, is 409
// identity_taken.
func TestIdentityFirstToVerifyWins(t *testing.T) {
	s, srv := bankedServer(t)
	id, phone := validID(3), "13800138003"
	require.Equal(t, 201, registerAs(t, srv, "stranger@test.cn", "investor", id, phone).status)
	a := registerAs(t, srv, "owner@test.cn", "borrower", strings.ToLower(id), phone)
	require.Equal(t, 201, a.status, "an unverified stranger blocks nobody: %s", a.raw)
	owner := login(t, srv, "owner@test.cn", "password-1")
	stranger := login(t, srv, "stranger@test.cn", "password-1")

	card := func(n int) string {
		c := fmt.Sprintf("62148303%09d", n)
		return c + string(kyc.LuhnCheckDigit(c))
	}
	a = do(t, srv, "POST", "/v1/me/custody-account", owner, "", `{"card_number":"`+card(1)+`"}`)
	require.Equal(t, 201, a.status, a.raw)
	a = do(t, srv, "POST", "/v1/me/custody-account", stranger, "", `{"card_number":"`+card(2)+`"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "identity_taken", a.body["code"])
	a = registerAs(t, srv, "late@test.cn", "guarantor", id, "13900139000")
	assert.Equal(t, 409, a.status)
	assert.Equal(t, "identity_taken", a.body["code"])

	// Two openings at once: the database's unique index on verified numbers
	// lets one win.
	twin := func(email string) int64 {
		require.Equal(t, 201, registerAs(t, srv, email, "investor", validID(4), "13800138004").status)
		return userID(t, s, email)
	}
	first, second := twin("t1@test.cn"), twin("t2@test.cn")
	no1, no2, c := "ACC-T1", "ACC-T2", card(3)
	_, err := s.q().UserSetCustodyAccount(context.Background(), dbq.UserSetCustodyAccountParams{ID: first, CustodyAccountNo: &no1, CardNumber: pii.SealPtr(&c)})
	require.NoError(t, err)
	_, err = s.q().UserSetCustodyAccount(context.Background(), dbq.UserSetCustodyAccountParams{ID: second, CustodyAccountNo: &no2, CardNumber: pii.SealPtr(&c)})
	assert.True(t, db.ConstraintViolated(err, "users_verified_id_number"), "%v", err)
}

// bankedServer is bankServer's API, handed back as a Server too.
func bankedServer(t *testing.T) (*Server, *httptest.Server) {
	t.Parallel()
	e := testenv.New(t)
	clk := clock.New(e.Pool, nil, nil, testLogger())
	require.NoError(t, clk.Init(e.Ctx, clock.Sandbox, e.Today))
	s := New(Deps{PasswordCost: testCost, Pool: e.Pool, Logger: testLogger(), Clock: clk, Bank: e.Bank, Accounts: e.Accounts,
		ClockMode: clock.Sandbox, HMACSecret: []byte(callbackSecret), BankFiles: e.Bank})
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}
