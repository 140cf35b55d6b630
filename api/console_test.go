package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/pii"
)

// page is one console answer.
type page struct {
	status   int
	location string
	body     string
	cookies  []*http.Cookie
	header   http.Header
}

// browse sends one console request with a session cookie (token) and an
// optional form, without following redirects.
func browse(t *testing.T, srv *httptest.Server, method, path, token string, form url.Values, extra ...*http.Cookie) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: hostPrefix + consoleCookie, Value: token})
	}
	for _, c := range extra {
		req.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), cookies: resp.Cookies(), header: resp.Header}
}

// cookieNamed finds the cookie name, as named over HTTPS (__Host-) or not.
func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name || c.Name == hostPrefix+name {
			return c
		}
	}
	return nil
}

var loginToken = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// consoleSignIn signs in at the console as a browser would: the sign-in
// page's token and cookie, then the form.
func consoleSignIn(t *testing.T, srv *httptest.Server, email, password string) page {
	t.Helper()
	form := browse(t, srv, "GET", "/console/login", "", nil)
	require.Equal(t, 200, form.status)
	m := loginToken.FindStringSubmatch(form.body)
	require.NotNil(t, m, form.body)
	return browse(t, srv, "POST", "/console/login", "", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}},
		cookieNamed(form.cookies, consoleLoginCookie))
}

// opsConsole signs the ops user in and answers the session token.
func opsConsole(t *testing.T, s *Server, srv *httptest.Server) string {
	t.Helper()
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	p := consoleSignIn(t, srv, "ops@test.cn", "ops-password-1")
	require.Equal(t, 303, p.status, p.body)
	c := cookieNamed(p.cookies, consoleCookie)
	require.NotNil(t, c)
	return c.Value
}

// TestConsoleSignIn: the console signs in with the API's users, password
// check and session table; the cookie is HttpOnly, SameSite=Strict, path
// /console/; a non-ops user with the right password gets no session; a
// sign-in without the form's own token is refused; logout ends the session.
func TestConsoleSignIn(t *testing.T) {
	s, srv := testServer(t)
	register(t, srv, "b@test.cn", "borrower", 1)

	p := browse(t, srv, "GET", "/console/", "", nil)
	assert.Equal(t, 303, p.status, "no session: sign in first")
	assert.Equal(t, "/console/login", p.location)

	form := browse(t, srv, "GET", "/console/login", "", nil)
	require.Equal(t, 200, form.status)
	lc := cookieNamed(form.cookies, consoleLoginCookie)
	require.NotNil(t, lc)
	assert.True(t, lc.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, lc.SameSite)
	assert.Contains(t, form.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Equal(t, "no-store", form.header.Get("Cache-Control"))
	token := loginToken.FindStringSubmatch(form.body)[1]
	again := browse(t, srv, "GET", "/console/login", "", nil, lc)
	assert.Equal(t, token, loginToken.FindStringSubmatch(again.body)[1], "a second sign-in tab keeps the browser's token")
	other := browse(t, srv, "GET", "/console/login", "", nil)
	assert.NotEqual(t, token, loginToken.FindStringSubmatch(other.body)[1], "another browser gets its own")

	creds := url.Values{"email": {"ops@test.cn"}, "password": {"ops-password-1"}}
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	p = browse(t, srv, "POST", "/console/login", "", creds)
	assert.Equal(t, 403, p.status, "a sign-in posted without the form's token (from another site) is refused")
	withToken := url.Values{"csrf": {token}, "email": creds["email"], "password": creds["password"]}
	p = browse(t, srv, "POST", "/console/login", "", withToken)
	assert.Equal(t, 403, p.status, "the token without its cookie is refused too")

	p = consoleSignIn(t, srv, "ops@test.cn", "wrong-password")
	assert.Equal(t, 401, p.status)
	assert.Contains(t, p.body, "wrong email or password")
	assert.Nil(t, cookieNamed(p.cookies, consoleCookie))

	p = consoleSignIn(t, srv, "b@test.cn", "password-1")
	assert.Equal(t, 403, p.status, "a borrower's right password opens no console session")
	assert.Contains(t, p.body, "your role may not do this")
	assert.Nil(t, cookieNamed(p.cookies, consoleCookie))

	p = consoleSignIn(t, srv, "ops@test.cn", "ops-password-1")
	require.Equal(t, 303, p.status, p.body)
	assert.Equal(t, "/console/", p.location)
	c := cookieNamed(p.cookies, consoleCookie)
	require.NotNil(t, c)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.Equal(t, "__Host-lendflow_console", c.Name, "a name no other host or plain-HTTP page can set")
	assert.Equal(t, "/", c.Path, "as the __Host- prefix requires")
	assert.True(t, c.Secure, "Secure unless the API is reached over plain HTTP")
	assert.InDelta(t, auth.OpsSessionTTL.Seconds(), float64(c.MaxAge), 5, "an ops session's lifetime")

	home := browse(t, srv, "GET", "/console/", c.Value, nil)
	require.Equal(t, 200, home.status, home.body)
	assert.Contains(t, home.body, "Awaiting due diligence")
	assert.Contains(t, home.body, "ops@test.cn")
	// The cookie is the API's own kind of session.
	assert.Equal(t, 200, do(t, srv, "GET", "/v1/ops/audit", c.Value, "", "").status)

	p = browse(t, srv, "POST", "/console/logout", c.Value, url.Values{})
	assert.Equal(t, 403, p.status, "logout without the form token")
	p = browse(t, srv, "POST", "/console/logout", c.Value, url.Values{"csrf": {csrfToken(c.Value)}})
	assert.Equal(t, 303, p.status)
	assert.Equal(t, "/console/login", p.location)
	assert.Equal(t, 303, browse(t, srv, "GET", "/console/", c.Value, nil).status, "the session is over")
	assert.Equal(t, 401, do(t, srv, "GET", "/v1/ops/audit", c.Value, "", "").status)
}

// TestConsoleSecureCookie: the session cookie is Secure with the __Host-
// prefix unless the API is reached over plain HTTP (PUBLIC_HTTPS=false,
// development); over HTTPS a cookie without the prefix, which anyone who can
// plant a cookie could have set, is not read.
func TestConsoleSecureCookie(t *testing.T) {
	s, srv := testServer(t)
	token := opsConsole(t, s, srv)
	planted := &http.Cookie{Name: consoleCookie, Value: token}
	p := browse(t, srv, "GET", "/console/", "", nil, planted)
	assert.Equal(t, 303, p.status, "a session in a cookie without the prefix is none")
	assert.Equal(t, 200, browse(t, srv, "GET", "/console/", token, nil).status)

	s.PlainHTTP = true
	p = consoleSignIn(t, srv, "nobody@test.cn", "x-password")
	assert.False(t, cookieNamed(p.cookies, consoleLoginCookie).Secure)
	assert.Equal(t, consoleLoginCookie, cookieNamed(p.cookies, consoleLoginCookie).Name)
	p = consoleSignIn(t, srv, "ops@test.cn", "ops-password-1")
	require.Equal(t, 303, p.status)
	assert.False(t, cookieNamed(p.cookies, consoleCookie).Secure)
}

// TestConsoleLoginThrottled: the console's sign-in is the API's, throttle
// included: after the free failures an attempt waits, even with the right
// password.
func TestConsoleLoginThrottled(t *testing.T) {
	s, srv := testServer(t)
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	for i := 0; i < auth.AccountFreeFailures; i++ {
		require.Equal(t, 401, consoleSignIn(t, srv, "ops@test.cn", "wrong-password").status)
	}
	p := consoleSignIn(t, srv, "ops@test.cn", "ops-password-1")
	assert.Equal(t, 429, p.status)
	assert.Equal(t, "1", p.header.Get("Retry-After"))
	assert.Contains(t, p.body, "too many failed sign-ins")
	assert.Nil(t, cookieNamed(p.cookies, consoleCookie))
	// The API's login shares the count.
	a := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"ops@test.cn","password":"ops-password-1"}`)
	assert.Equal(t, 429, a.status)
}

// consoleFixture is a console with loans in each queue, as the workflow
// would have left them.
type consoleFixture struct {
	s     *Server
	srv   *httptest.Server
	ops   string
	today time.Time
	loans map[string]int64
}

func newConsoleFixture(t *testing.T) consoleFixture {
	s, srv := testServer(t)
	f := consoleFixture{s: s, srv: srv, today: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), loans: map[string]int64{}}
	f.ops = opsConsole(t, s, srv)
	return f
}

func (f consoleFixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := f.s.Pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err)
}

// user makes a user with a known name, ID number and phone; the row
// answered carries them opened, as the tests compare them.
func (f consoleFixture) user(t *testing.T, role lending.Role, n int, name string) dbq.User {
	t.Helper()
	id, phone := validID(n), fmt.Sprintf("1380013%04d", n)
	u, err := f.s.q().UserInsert(context.Background(), pii.SealUser(dbq.UserInsertParams{
		Email: fmt.Sprintf("u%d@test.cn", n), PasswordHash: "x", Role: role, Name: name, IDNumber: id, Phone: phone,
	}))
	require.NoError(t, err)
	u.IDNumber, u.Phone = id, phone
	return u
}

// loan makes a loan in a status.
func (f consoleFixture) loan(t *testing.T, borrower dbq.User, amount string, status lending.Status) dbq.Loan {
	t.Helper()
	l, err := f.s.q().LoanInsert(context.Background(), dbq.LoanInsertParams{
		BorrowerID: borrower.ID, Amount: decimal.RequireFromString(amount), TermMonths: 3, RepaymentMethod: "equal_installment",
		Purpose: "shop", MonthlyIncome: decimal.RequireFromString("50000.00"), WorkflowID: fmt.Sprintf("wf-%s-%d", status, time.Now().UnixNano()), AppliedOn: f.today,
	})
	require.NoError(t, err)
	f.exec(t, `UPDATE loans SET status = $2, grade = 'B', annual_rate = 0.085, next_event_on = NULL, workflow_id = 'loan-' || id WHERE id = $1`, l.ID, status)
	l, err = f.s.q().LoanGet(context.Background(), l.ID)
	require.NoError(t, err)
	return l
}

func (f consoleFixture) installment(t *testing.T, loanID int64, no int, due, principal, interest string, status lending.InstallmentStatus) {
	t.Helper()
	f.exec(t, `INSERT INTO installments (loan_id, no, due_date, principal, interest, status) VALUES ($1, $2, $3, $4, $5, $6)`,
		loanID, no, due, principal, interest, status)
}

func (f consoleFixture) setToday(t *testing.T, d string) {
	t.Helper()
	f.exec(t, `UPDATE platform_clock SET today = $1`, d)
}

// TestCollectionTasks: every loan at M2 and beyond, with DPD and bucket of
// its oldest open installment, the overdue amount over every installment
// past due (unpaid principal + interest + penalty accrued to the business
// date, to the cent), the borrower whole and the day it entered M2; a loan
// in M1 is not a task. Reading the list records nothing in the audit log.
//
// Today 2026-03-05. Loan A: installments due 2026-01-01 (1000.00 + 10.00)
// and 2026-02-01 (1000.00 + 8.00), a third due 2026-04-01 not yet due.
// DPD 63 (M3). Penalty 0.05 % a day, rounded per day: round(0.505) = 0.51
// × 63 = 32.13; round(0.504) = 0.50 × 32 = 16.00. Overdue 1010.00 + 32.13 +
// 1008.00 + 16.00 = 2066.13. Opened 2026-01-01 + 31 = 2026-02-01.
// Loan B: installment 1 paid, installment 2 due 2026-01-20, 500.00 + 5.00
// of which 100.00 principal paid: base 405.00, daily round(0.2025) = 0.20
// × 44 = 8.80; overdue 405.00 + 8.80 = 413.80, DPD 44 (M2), opened 02-20.
// Loan C: due 2026-02-10, DPD 23 (M1): no task. Loan D: written off.
func TestCollectionTasks(t *testing.T) {
	f := newConsoleFixture(t)
	ba, bb, bc := f.user(t, lending.RoleBorrower, 1, "张三"), f.user(t, lending.RoleBorrower, 2, "李四"), f.user(t, lending.RoleBorrower, 3, "王五")
	a := f.loan(t, ba, "3000.00", lending.StatusOverdue)
	f.installment(t, a.ID, 1, "2026-01-01", "1000.00", "10.00", lending.InstallmentOverdue)
	f.installment(t, a.ID, 2, "2026-02-01", "1000.00", "8.00", lending.InstallmentOverdue)
	f.installment(t, a.ID, 3, "2026-04-01", "1000.00", "6.00", lending.InstallmentPending)
	b := f.loan(t, bb, "1000.00", lending.StatusOverdue)
	f.installment(t, b.ID, 1, "2025-12-20", "500.00", "5.00", lending.InstallmentPaid)
	f.installment(t, b.ID, 2, "2026-01-20", "500.00", "5.00", lending.InstallmentOverdue)
	f.exec(t, `UPDATE installments SET paid_principal = 100.00 WHERE loan_id = $1 AND no = 2`, b.ID)
	c := f.loan(t, bc, "1000.00", lending.StatusRepaying)
	f.installment(t, c.ID, 1, "2026-02-10", "1000.00", "7.00", lending.InstallmentPending)
	d := f.loan(t, bc, "1000.00", lending.StatusWrittenOff)
	f.installment(t, d.ID, 1, "2025-06-01", "1000.00", "7.00", lending.InstallmentWrittenOff)
	f.setToday(t, "2026-03-05")

	opsToken := login(t, f.srv, "ops@test.cn", "ops-password-1")
	res := do(t, f.srv, "GET", "/v1/ops/collection-tasks", opsToken, "", "")
	require.Equal(t, 200, res.status, res.raw)
	items := res.body["items"].([]any)
	require.Len(t, items, 2, res.raw)
	want := []map[string]any{
		{"loan_id": float64(a.ID), "dpd": float64(63), "bucket": "M3", "overdue_amount": "2066.13", "opened_on": "2026-02-01",
			"borrower": map[string]any{"user_id": float64(ba.ID), "name": "张三", "phone": ba.Phone}},
		{"loan_id": float64(b.ID), "dpd": float64(44), "bucket": "M2", "overdue_amount": "413.80", "opened_on": "2026-02-20",
			"borrower": map[string]any{"user_id": float64(bb.ID), "name": "李四", "phone": bb.Phone}},
	}
	for i := range want {
		assert.Equal(t, want[i], items[i], "task %d", i)
	}
	n, err := audit.List(context.Background(), f.s.q(), audit.Filter{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, n, "the collection list is ops' work queue: reading it is not audited")

	// The schedule shows the same penalty as of today (one rule, penaltyAsOf).
	sched := do(t, f.srv, "GET", fmt.Sprintf("/v1/loans/%d/schedule", a.ID), opsToken, "", "")
	require.Equal(t, 200, sched.status)
	assert.Equal(t, "32.13", sched.body["installments"].([]any)[0].(map[string]any)["penalty"])

	// The console's queue page shows them by bucket.
	q := browse(t, f.srv, "GET", "/console/", f.ops, nil)
	require.Equal(t, 200, q.status, q.body)
	assert.Contains(t, q.body, `data-bucket="M2">1<`)
	assert.Contains(t, q.body, `data-bucket="M3">1<`)
	assert.Contains(t, q.body, `data-bucket="M3&#43;">0<`, "html/template writes + as &#43;")
	assert.Contains(t, q.body, `data-queue="collection">2<`)
	assert.Contains(t, q.body, "2066.13")
	assert.Contains(t, q.body, "张三")
}

// TestStatsOverdueRateByBucket: GET /v1/stats keeps its figures and adds
// each bucket's overdue amount over the outstanding principal, 4 places.
//
// Today 2026-03-05; outstanding principal 1000.00 + 1000.00 + 1000.00
// (loan A) + 400.00 (loan B) = 3400.00. Overdue by each installment's DPD:
// 2026-01-01 is 63 days (M3) 1010.00, 2026-02-01 is 32 days (M2) 1008.00,
// loan B's 2026-01-20 is 44 days (M2) 405.00: M2 1413.00 → 0.4156, M3
// 1010.00 → 0.2971, overdue 2423.00 → 0.7126.
func TestStatsOverdueRateByBucket(t *testing.T) {
	f := newConsoleFixture(t)
	ba, bb := f.user(t, lending.RoleBorrower, 1, "张三"), f.user(t, lending.RoleBorrower, 2, "李四")
	a := f.loan(t, ba, "3000.00", lending.StatusOverdue)
	f.installment(t, a.ID, 1, "2026-01-01", "1000.00", "10.00", lending.InstallmentOverdue)
	f.installment(t, a.ID, 2, "2026-02-01", "1000.00", "8.00", lending.InstallmentOverdue)
	f.installment(t, a.ID, 3, "2026-04-01", "1000.00", "6.00", lending.InstallmentPending)
	b := f.loan(t, bb, "1000.00", lending.StatusOverdue)
	f.installment(t, b.ID, 1, "2025-12-20", "500.00", "5.00", lending.InstallmentPaid)
	f.exec(t, `UPDATE installments SET paid_principal = 500.00, paid_interest = 5.00 WHERE loan_id = $1 AND no = 1`, b.ID)
	f.installment(t, b.ID, 2, "2026-01-20", "500.00", "5.00", lending.InstallmentOverdue)
	f.exec(t, `UPDATE installments SET paid_principal = 100.00 WHERE loan_id = $1 AND no = 2`, b.ID)
	f.setToday(t, "2026-03-05")

	a2 := do(t, f.srv, "GET", "/v1/stats", "", "", "")
	require.Equal(t, 200, a2.status, a2.raw)
	assert.Equal(t, "3400.00", a2.body["outstanding_principal"])
	assert.Equal(t, map[string]any{"M1": "0.00", "M2": "1413.00", "M3": "1010.00", "M3+": "0.00"}, a2.body["overdue_by_bucket"])
	assert.Equal(t, map[string]any{"M1": "0.0000", "M2": "0.4156", "M3": "0.2971", "M3+": "0.0000"}, a2.body["overdue_rate_by_bucket"])
	assert.Equal(t, "2423.00", a2.body["overdue_amount"])
	assert.Equal(t, "0.7126", a2.body["overdue_rate"])
	assert.Equal(t, "0.00", a2.body["m3_plus_amount"])

	d := browse(t, f.srv, "GET", "/console/disclosure", f.ops, nil)
	require.Equal(t, 200, d.status, d.body)
	assert.Contains(t, d.body, `data-bucket="M2">1413.00<`)
	assert.Contains(t, d.body, "71.26 %")
	assert.Contains(t, d.body, "No snapshots yet")
}

// TestConsoleQueues: each queue lists its loans with a count: due
// diligence and full-tender review by status; write-off requests while
// ops were asked and have not declined since; failed disbursements while
// every batch attempt failed and none is in flight.
func TestConsoleQueues(t *testing.T) {
	f := newConsoleFixture(t)
	b := f.user(t, lending.RoleBorrower, 1, "张三")
	dd := f.loan(t, b, "60000.00", lending.StatusDueDiligence)
	fr := f.loan(t, b, "5000.00", lending.StatusFullReview)
	fr2 := f.loan(t, b, "6000.00", lending.StatusFullReview)
	f.setToday(t, "2026-06-01")
	// Asked at DPD 91 (2026-06-01 is 92 days after 2026-03-01), not declined.
	wo := f.loan(t, b, "1000.00", lending.StatusOverdue)
	f.installment(t, wo.ID, 1, "2026-03-01", "1000.00", "7.00", lending.InstallmentOverdue)
	f.exec(t, `INSERT INTO loan_history (loan_id, seq, status, business_date, note) VALUES ($1, 40, 'overdue', '2026-05-31', $2)`, wo.ID, loans.WriteOffAskNote+" (DPD 91)")
	// Asked, then declined: not in the queue until asked again.
	declined := f.loan(t, b, "1000.00", lending.StatusOverdue)
	f.installment(t, declined.ID, 1, "2026-02-01", "1000.00", "7.00", lending.InstallmentOverdue)
	f.exec(t, `INSERT INTO loan_history (loan_id, seq, status, business_date, note) VALUES ($1, 40, 'overdue', '2026-05-03', $2), ($1, 41, 'overdue', '2026-05-04', 'write-off declined: still paying')`, declined.ID, loans.WriteOffAskNote+" (DPD 91)")
	// Failed once, retried, and the retry failed too: waiting for ops.
	failed := f.loan(t, b, "2000.00", lending.StatusDisbursing)
	// Failed once and retried: the retry is in flight.
	inflight := f.loan(t, b, "3000.00", lending.StatusDisbursing)
	for no, st := range map[string]string{
		bank.Disbursement(failed.ID, 1): "failed", bank.Disbursement(failed.ID, 2): "failed",
		bank.Disbursement(inflight.ID, 1): "failed", bank.Disbursement(inflight.ID, 2): "sent",
	} {
		f.exec(t, `INSERT INTO bank_requests (request_no, kind, status) VALUES ($1, 'disbursement', $2)`, no, st)
	}

	q := browse(t, f.srv, "GET", "/console/", f.ops, nil)
	require.Equal(t, 200, q.status, q.body)
	for queue, n := range map[string]int{"due-diligence": 1, "full-review": 2, "write-off": 1, "failed-disbursement": 1, "collection": 2} {
		assert.Contains(t, q.body, fmt.Sprintf(`data-queue="%s">%d<`, queue, n), queue)
	}
	section := func(id string) string {
		i := strings.Index(q.body, `<section id="`+id+`"`)
		require.GreaterOrEqual(t, i, 0, id)
		j := strings.Index(q.body[i:], "</section>")
		return q.body[i : i+j]
	}
	link := func(id int64) string { return fmt.Sprintf(`href="/console/loans/%d"`, id) }
	assert.Contains(t, section("due-diligence"), link(dd.ID))
	assert.Contains(t, section("full-review"), link(fr.ID))
	assert.Contains(t, section("full-review"), link(fr2.ID))
	assert.Contains(t, section("write-off"), link(wo.ID))
	assert.Contains(t, section("write-off"), "92 days past due")
	assert.NotContains(t, section("write-off"), link(declined.ID))
	assert.Contains(t, section("failed-disbursement"), link(failed.ID))
	assert.NotContains(t, section("failed-disbursement"), link(inflight.ID))
}

// refusingTemporal answers the loan updates the console sends with a
// refusal, as the workflow's validator does for a loan at another step.
type refusingTemporal struct {
	client.Client
	refuse string
	calls  int
}

func (f *refusingTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.calls++
	return nil, temporal.NewApplicationError("the loan is listed", f.refuse)
}

// TestConsoleDecisionRefusals: a decision form goes through decide, so a
// form the API would refuse is refused the same way and shown plainly on
// the loan page: invalid fields before Temporal is asked; the workflow's
// refusal with its code, title and fixed detail. A refusal records nothing.
func TestConsoleDecisionRefusals(t *testing.T) {
	f := newConsoleFixture(t)
	ft := &refusingTemporal{refuse: errs.InvalidState}
	f.s.Temporal = ft
	f.s.wire()
	l := f.loan(t, f.user(t, lending.RoleBorrower, 1, "张三"), "60000.00", lending.StatusListed)
	path := fmt.Sprintf("/console/loans/%d/", l.ID)
	csrf := csrfToken(f.ops)

	p := browse(t, f.srv, "POST", path+"due-diligence", f.ops, url.Values{"csrf": {csrf}, "decision": {"maybe"}, "grade": {"Z"}, "note": {"x"}})
	assert.Equal(t, 422, p.status)
	assert.Contains(t, p.body, "Refused: Unprocessable Entity")
	assert.Contains(t, p.body, "<b>decision</b>: must be approve or reject")
	assert.Contains(t, p.body, "<b>grade</b>: must be A to E")
	assert.Equal(t, 0, ft.calls, "an invalid form never reaches the workflow")

	p = browse(t, f.srv, "POST", path+"full-tender-review", f.ops, url.Values{"csrf": {csrf}, "decision": {"approve"}, "annual_rate": {"0.1"}})
	assert.Equal(t, 422, p.status, "grade and rate change only at due diligence, as in the API")
	assert.Contains(t, p.body, "grade and rate change only at due diligence")

	p = browse(t, f.srv, "POST", path+"full-tender-review", f.ops, url.Values{"csrf": {csrf}, "decision": {"approve"}, "note": {"ok"}})
	assert.Equal(t, 409, p.status)
	assert.Contains(t, p.body, "Refused: Conflict <code>invalid_state</code>")
	assert.Contains(t, p.body, "the loan is not in a state that allows this")
	assert.NotContains(t, p.body, "the loan is listed", "the refusal's own text is for the log")
	assert.Contains(t, p.body, `<details class="action" id="action-full-tender-review" open>`, "the refused form is unfolded, not marked as the loan's step")
	assert.Contains(t, p.body, `<details class="action" id="action-due-diligence">`)
	assert.Equal(t, 1, ft.calls)

	p = browse(t, f.srv, "POST", path+"disbursement-retry", f.ops, url.Values{"csrf": {csrf}})
	assert.Equal(t, 409, p.status)
	assert.Contains(t, p.body, "invalid_state")

	items, err := audit.List(context.Background(), f.s.q(), audit.Filter{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, items, "a refused action records nothing")
}

// TestConsoleLoanPageAndReveal: the loan page masks the borrower as the
// listings do; a reveal needs a reason, and shows the identity only once
// the reveal is in the audit log.
func TestConsoleLoanPageAndReveal(t *testing.T) {
	f := newConsoleFixture(t)
	f.s.TemporalUIURL, f.s.TemporalNamespace = "http://temporal-ui.test:8233/", "lend flow"
	b := f.user(t, lending.RoleBorrower, 1, "张三")
	inv := f.user(t, lending.RoleInvestor, 2, "李四")
	l := f.loan(t, b, "3000.00", lending.StatusRepaying)
	f.installment(t, l.ID, 1, "2026-01-10", "1000.00", "20.00", lending.InstallmentPending)
	f.installment(t, l.ID, 2, "2026-02-10", "2000.00", "10.00", lending.InstallmentPending)
	f.exec(t, `INSERT INTO bids (loan_id, investor_id, amount, status) VALUES ($1, $2, 1000.00, 'disbursed'), ($1, $2, 2000.00, 'disbursed')`, l.ID, inv.ID)
	f.exec(t, `INSERT INTO loan_history (loan_id, seq, status, business_date, note) VALUES ($1, 5, 'due_diligence', '2026-01-02', 'due diligence: income verified by phone')`, l.ID)
	path := fmt.Sprintf("/console/loans/%d", l.ID)

	p := browse(t, f.srv, "GET", path, f.ops, nil)
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, p.body, `<dd id="borrower-name">张*</dd>`)
	assert.Contains(t, p.body, `<dd id="borrower-id-number">`+b.IDNumber[:4]+"**********"+b.IDNumber[14:]+`</dd>`)
	assert.Contains(t, p.body, `<dd id="borrower-phone">138****`+b.Phone[7:]+`</dd>`)
	assert.NotContains(t, p.body, b.IDNumber)
	assert.Contains(t, p.body, fmt.Sprintf(`href="http://temporal-ui.test:8233/namespaces/lend%%20flow/workflows/loan-%d"`, l.ID))
	// Due 2026-01-10, today 2026-01-31: overdue 21 days, penalty round(0.51) × 21 = 10.71.
	assert.Contains(t, p.body, "10.71")
	assert.Contains(t, p.body, "21 days")
	assert.Contains(t, p.body, "33.33 %", "a bid's share of the loan")
	assert.Contains(t, p.body, "66.67 %")
	assert.Contains(t, p.body, "income verified by phone", "ops read their notes whole")

	csrf := csrfToken(f.ops)
	p = browse(t, f.srv, "POST", path+"/reveal", f.ops, url.Values{"csrf": {csrf}, "reason": {"  "}})
	assert.Equal(t, 422, p.status)
	assert.NotContains(t, p.body, b.IDNumber)
	p = browse(t, f.srv, "POST", path+"/reveal", f.ops, url.Values{"reason": {"call"}})
	assert.Equal(t, 403, p.status, "no form token")
	assert.NotContains(t, p.body, b.IDNumber)

	p = browse(t, f.srv, "POST", path+"/reveal", f.ops, url.Values{"csrf": {csrf}, "reason": {"borrower called about installment 1"}})
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, p.body, `<dd id="borrower-name">张三</dd>`)
	assert.Contains(t, p.body, b.IDNumber)
	assert.Contains(t, p.body, b.Phone)
	items, err := audit.List(context.Background(), f.s.q(), audit.Filter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 1)
	ops, err := f.s.q().UserGetByEmail(context.Background(), "ops@test.cn")
	require.NoError(t, err)
	assert.Equal(t, audit.Item{ID: items[0].ID, At: items[0].At, OpsUserID: ops.ID, Action: audit.BorrowerReveal,
		Target: audit.User(b.ID), Note: fmt.Sprintf("loan %d: borrower called about installment 1", l.ID)}, items[0])

	// The next look is masked again.
	p = browse(t, f.srv, "GET", path, f.ops, nil)
	assert.NotContains(t, p.body, b.IDNumber)

	assert.Equal(t, 404, browse(t, f.srv, "GET", "/console/loans/999999", f.ops, nil).status)
	p = browse(t, f.srv, "GET", fmt.Sprintf("/console/loans?id=%d", l.ID), f.ops, nil)
	assert.Equal(t, 303, p.status)
	assert.Equal(t, path, p.location)
}

// TestConsoleLoanTransfersAndHolders: the loan page lists every listing of
// the loan's claims and who held each claim when, and both follow a sale:
// listed, the bidder holds the claim; sold, the bidder's holding ends that
// day and the buyer's begins, with the price and the fee shown. The figures
// are docs/transfer.md's worked example (A sells to C on 20 March).
func TestConsoleLoanTransfersAndHolders(t *testing.T) {
	f := newConsoleFixture(t)
	b := f.user(t, lending.RoleBorrower, 1, "张借款")
	a := f.user(t, lending.RoleInvestor, 2, "甲出借")
	c := f.user(t, lending.RoleInvestor, 3, "丙受让")
	l := f.loan(t, b, "12000.00", lending.StatusRepaying)
	f.installment(t, l.ID, 1, "2026-04-02", "12000.00", "65.00", lending.InstallmentPending)
	f.exec(t, `INSERT INTO bids (loan_id, investor_id, amount, status) VALUES ($1, $2, 6000.00, 'disbursed')`, l.ID, a.ID)
	f.exec(t, `INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, status)
		SELECT $1, id, $2, 'bid', 6000.00, 6000.00, '2026-03-02', 'held' FROM bids WHERE loan_id = $1`, l.ID, a.ID)
	path := fmt.Sprintf("/console/loans/%d", l.ID)
	section := func(body, id string) string {
		i := strings.Index(body, `id="`+id+`"`)
		require.GreaterOrEqual(t, i, 0, id)
		j := strings.Index(body[i:], "</section>")
		return body[i : i+j]
	}

	p := browse(t, f.srv, "GET", path, f.ops, nil)
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, section(p.body, "transfers"), "No claim of this loan has been listed.")
	holders := section(p.body, "holders")
	assert.Contains(t, holders, "甲*")
	assert.Contains(t, holders, "2026-03-02 → now")

	f.exec(t, `INSERT INTO transfers (loan_id, bid_id, holding_id, seller_id, discount_rate, status, listed_on, expires_on, offer_seq)
		SELECT loan_id, bid_id, id, holder_id, 0.01, 'listed', '2026-03-20', '2026-03-28', 1 FROM holdings WHERE loan_id = $1`, l.ID)
	transfers := section(browse(t, f.srv, "GET", path, f.ops, nil).body, "transfers")
	assert.Contains(t, transfers, "甲*")
	assert.Contains(t, transfers, "1.00 %")
	assert.Contains(t, transfers, "2026-03-28")
	assert.Contains(t, transfers, ">listed<")

	// The sale: the claim handed over, the listing sold.
	f.exec(t, `UPDATE holdings SET status = 'transferred', held_to = '2026-03-20' WHERE loan_id = $1`, l.ID)
	f.exec(t, `INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, status)
		SELECT $1, id, $2, 'transfer', 6000.00, 5958.68, '2026-03-20', 'held' FROM bids WHERE loan_id = $1`, l.ID, c.ID)
	f.exec(t, `UPDATE transfers t SET status = 'sold', buyer_id = $2, buyer_holding_id = h.id, principal = 6000.00,
		accrued_interest = 18.87, price = 5958.68, fee = 60.00, closed_on = '2026-03-20'
		FROM holdings h WHERE t.loan_id = $1 AND h.loan_id = $1 AND h.holder_id = $2`, l.ID, c.ID)
	p = browse(t, f.srv, "GET", path, f.ops, nil)
	transfers = section(p.body, "transfers")
	for _, want := range []string{"甲*", "丙*", ">sold<", "6000.00", "5958.68", "60.00", "2026-03-20"} {
		assert.Contains(t, transfers, want)
	}
	holders = section(p.body, "holders")
	for _, want := range []string{"2026-03-02 → 2026-03-20", ">transferred<", "丙*", "5958.68", "2026-03-20 → now", ">held<"} {
		assert.Contains(t, holders, want)
	}
	assert.Less(t, strings.Index(holders, "甲*"), strings.Index(holders, "丙*"), "the claim's holders oldest first")
}

// TestConsoleClockAdvance: the advance form goes through advanceClock:
// refusals at once on the page, then the advance runs on and the progress
// endpoint follows it to the end; it is audited as the API's is.
func TestConsoleClockAdvance(t *testing.T) {
	f := newConsoleFixture(t)
	csrf := csrfToken(f.ops)
	p := browse(t, f.srv, "POST", "/console/clock/advance", f.ops, url.Values{"csrf": {csrf}, "to": {"2026-01-30"}})
	assert.Equal(t, 422, p.status)
	assert.Contains(t, p.body, "the clock never goes back")
	assert.Equal(t, 404, browse(t, f.srv, "GET", "/console/clock/progress", f.ops, nil).status, "no advance started yet")

	p = browse(t, f.srv, "POST", "/console/clock/advance", f.ops, url.Values{"csrf": {csrf}, "to": {"2026-02-03"}})
	require.Equal(t, 303, p.status, p.body)
	assert.Equal(t, "/console/clock", p.location)
	var pr page
	testwait.Within(30*time.Second).For(t, "the advance to finish", func() bool {
		pr = browse(t, f.srv, "GET", "/console/clock/progress", f.ops, nil)
		require.Equal(t, 200, pr.status, pr.body)
		return strings.Contains(pr.body, `"running":false`)
	})
	assert.JSONEq(t, `{"from":"2026-01-31","to":"2026-02-03","today":"2026-02-03","running":false,"loans_due":0,"percent":100}`, pr.body)
	c := browse(t, f.srv, "GET", "/console/clock", f.ops, nil)
	assert.Contains(t, c.body, `<b id="clock-today">2026-02-03</b>`)
	assert.Contains(t, c.body, "Done: every loan has handled every event up to 2026-02-03.")
	items, err := audit.List(context.Background(), f.s.q(), audit.Filter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, audit.ClockAdvance, items[0].Action)
	assert.Equal(t, "clock:2026-02-03", items[0].Target)
	assert.Equal(t, "from 2026-01-31", items[0].Note)
}

// TestConsoleAdvanceProgress: while an advance runs, the page shows how far
// the business date has come and how many loans still have events due.
func TestConsoleAdvanceProgress(t *testing.T) {
	f := newConsoleFixture(t)
	l := f.loan(t, f.user(t, lending.RoleBorrower, 1, "张三"), "1000.00", lending.StatusRepaying)
	f.exec(t, `UPDATE loans SET next_event_on = '2026-02-05' WHERE id = $1`, l.ID)
	f.setToday(t, "2026-02-02")
	run, ok, err := f.s.advanceStart(context.Background(), f.today, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, ok)
	p, err := f.s.advanceProgress(context.Background(), run, time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, advanceProgress{From: "2026-01-31", To: "2026-02-10", Today: "2026-02-02", Running: true, LoansDue: 1, Percent: 20}, p)

	c := browse(t, f.srv, "GET", "/console/clock", f.ops, nil)
	require.Equal(t, 200, c.status, c.body)
	assert.Contains(t, c.body, `<progress id="advance-bar" max="100" value="20">`)
	assert.Contains(t, c.body, `loans with events still due on or before 2026-02-10: <b id="advance-due">1</b>`)
	assert.NotContains(t, c.body, `id="advance-form"`, "no second advance while one runs")
	assert.Contains(t, c.body, `<script src="/console/static/console.js" defer></script>`)
	p2 := browse(t, f.srv, "POST", "/console/clock/advance", f.ops, url.Values{"csrf": {csrfToken(f.ops)}, "to": {"2026-02-20"}})
	assert.Equal(t, 409, p2.status, "one advance at a time")
	assert.Contains(t, p2.body, "an advance is running; wait for it to finish")

	require.NoError(t, f.s.advanceFinish(context.Background(), run, errors.New("loan 7 at 2026-02-05: deadline exceeded")))
	c = browse(t, f.srv, "GET", "/console/clock", f.ops, nil)
	assert.Contains(t, c.body, "Stopped: internal error", "a failure's cause is for the log")
}

// TestConsoleWallClock: a wall clock has no advance in the console either.
func TestConsoleWallClock(t *testing.T) {
	s, srv := testServer(t)
	s.ClockMode = "wall"
	srv.Config.Handler = s.Handler()
	ops := opsConsole(t, s, srv)
	assert.Equal(t, 404, browse(t, srv, "POST", "/console/clock/advance", ops, url.Values{"csrf": {csrfToken(ops)}, "to": {"2026-02-03"}}).status)
	assert.Equal(t, 200, browse(t, srv, "GET", "/console/clock", ops, nil).status)
}

// reconFile is a bank file of one recharge the ledger does not have.
type reconFile struct{}

func (reconFile) Reconciliation(_ context.Context, date time.Time) ([]bank.ReconciliationLine, error) {
	return []bank.ReconciliationLine{{RequestNo: "recharge-99", Type: "recharge", From: bank.AccountSummary, To: "A1",
		Amount: decimal.RequireFromString("12.34"), Status: bank.StatusSucceeded, BusinessDate: date, Time: date}}, nil
}

// TestConsoleReconciliation: a day's reconciliation as reconcile.Run
// answers GET /v1/ops/reconciliation/{date}, differences shown.
func TestConsoleReconciliation(t *testing.T) {
	f := newConsoleFixture(t)
	f.s.BankFiles = reconFile{}
	f.s.wire()
	p := browse(t, f.srv, "GET", "/console/reconciliation?date=2026-01-30", f.ops, nil)
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, p.body, `id="recon-status">mismatched<`)
	assert.Contains(t, p.body, "recharge-99")
	assert.Contains(t, p.body, "12.34")
	api := do(t, f.srv, "GET", "/v1/ops/reconciliation/2026-01-30", login(t, f.srv, "ops@test.cn", "ops-password-1"), "", "")
	assert.Equal(t, "mismatched", api.body["status"])
	p = browse(t, f.srv, "GET", "/console/reconciliation?date=2026-13-01", f.ops, nil)
	assert.Equal(t, 422, p.status)
}

// TestConsoleStatic: the assets are embedded and served to anyone; no
// directory is listed.
func TestConsoleStatic(t *testing.T) {
	_, srv := testServer(t)
	p := browse(t, srv, "GET", "/console/static/console.css", "", nil)
	assert.Equal(t, 200, p.status)
	assert.Contains(t, p.header.Get("Content-Type"), "text/css")
	p = browse(t, srv, "GET", "/console/static/console.js", "", nil)
	assert.Equal(t, 200, p.status)
	assert.Equal(t, 404, browse(t, srv, "GET", "/console/static/", "", nil).status)
}

// checkConsoleRoute is TestSecurityEveryRouteEveryRole's check of a console
// route (cookie auth): without a session the browser is sent to sign in;
// another role's session is 403; an ops POST without the session's form
// token is 403, and one with a field the form does not have is 422 naming
// it; the sign-in itself needs its own form token.
func checkConsoleRoute(t *testing.T, srv *httptest.Server, f fixture, key string, rule routeRule) {
	method, pattern, _ := strings.Cut(key, " ")
	path := strings.ReplaceAll(pattern, "{id}", fmt.Sprint(f.ids["loan"]))
	if strings.HasPrefix(pattern, "/console/static/") {
		path = "/console/static/console.css"
	}
	var form url.Values
	if method == "POST" {
		form = url.Values{}
	}
	switch rule.console {
	case consolePublic:
		p := browse(t, srv, method, path+rule.query, "", form)
		assert.Equal(t, rule.ok, p.status, "%s: %s", path, p.body)
		return
	case consoleSignInRoute:
		for _, c := range []lending.Role{"", lending.RoleBorrower, lending.RoleOps} {
			p := browse(t, srv, method, path, f.tokens[c], url.Values{"email": {"ops@test.cn"}, "password": {"ops-password-1"}})
			assert.Equal(t, 403, p.status, "caller %q without the sign-in form's token", c)
		}
		return
	}
	p := browse(t, srv, method, path, "", form)
	assert.Equal(t, 303, p.status, "anonymous")
	assert.Equal(t, "/console/login", p.location, "anonymous")
	p = browse(t, srv, method, path, "not-a-session", form)
	assert.Equal(t, 303, p.status, "a cookie that is no session")
	for _, c := range []lending.Role{lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor} {
		p := browse(t, srv, method, path, f.tokens[c], form)
		assert.Equal(t, 403, p.status, "%s's session: %s", c, p.body)
		assert.Contains(t, p.body, "your role may not do this", c)
	}
	ops := f.tokens[lending.RoleOps]
	if method == "GET" {
		if rule.ok != 0 {
			p := browse(t, srv, method, path+rule.query, ops, nil)
			assert.Equal(t, rule.ok, p.status, "ops: %s", p.body)
		}
		return
	}
	p = browse(t, srv, method, path, ops, form)
	assert.Equal(t, 403, p.status, "ops without the form token")
	p = browse(t, srv, method, path, ops, url.Values{"csrf": {csrfToken(f.tokens[lending.RoleBorrower])}})
	assert.Equal(t, 403, p.status, "ops with another session's form token")
	require.NotEmpty(t, rule.mass, "%s needs a mass-assignment form", key)
	mass, err := url.ParseQuery(rule.mass)
	require.NoError(t, err)
	mass.Set(csrfField, csrfToken(ops))
	p = browse(t, srv, method, path, ops, mass)
	assert.Equal(t, 422, p.status, "a field the form does not have: %s", p.body)
	assert.Contains(t, p.body, "<b>"+rule.massField+"</b>: unknown field")
}
