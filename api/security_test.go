package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// routeRule is one route's security rule: who may call it, what object its
// path names, and a body that tries to set a field the caller does not own.
type routeRule struct {
	// roles that may call it; nil: anyone, signed in or not.
	roles []lending.Role
	// object the path's {id} names: "loan" (owned by a borrower), "withdrawal"
	// (owned by an investor), "listing", "user", or "" for none.
	object string
	// mass is a body with one field the caller may not set, and massField its
	// name: the answer must be 422 validation_failed naming it.
	mass, massField string
	// ok is the status of an allowed call on the caller's own object with no
	// body, where it needs neither Temporal nor the bank; 0: not checked.
	ok int
	// query is added to the path of the ok call.
	query string
	// signed: the route authenticates by the bank's signature, not a token.
	signed bool
	// console: an ops console route, authenticated by the session cookie
	// (checkConsoleRoute); mass is then a form (a=1&b=2).
	console consoleKind
}

// consoleKind is how a console route admits its callers.
type consoleKind int

const (
	notConsole         consoleKind = iota
	consolePublic                  // anyone: the sign-in page, the assets; ok is the status
	consoleSignInRoute             // the sign-in form, behind its own form token
	consolePage                    // an ops session's page or form
)

var (
	anyone      []lending.Role
	signedIn    = []lending.Role{lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor, lending.RoleOps}
	accountUser = []lending.Role{lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor}
	borrower    = []lending.Role{lending.RoleBorrower}
	investor    = []lending.Role{lending.RoleInvestor}
	ops         = []lending.Role{lending.RoleOps}
)

// securityTable has a row for every route the router serves: a route added
// without one fails TestSecurityTableCoversTheRouter.
var securityTable = map[string]routeRule{
	"GET /healthz":      {roles: anyone, ok: 200},
	"GET /readyz":       {roles: anyone, ok: 200},
	"GET /openapi.yaml": {roles: anyone, ok: 200},
	"GET /v1/clock":     {roles: anyone, ok: 200},
	"GET /v1/stats":     {roles: anyone, ok: 200},
	"GET /v1/calculator/schedule": {roles: anyone, ok: 200,
		query: "?principal=1000.00&annual_rate=0.12&term_months=3&method=equal_installment"},
	"POST /v1/auth/register":  {roles: anyone, mass: `{"user_id":1}`, massField: "user_id"},
	"POST /v1/auth/login":     {roles: anyone, mass: `{"email":"a@b.cn","password":"x","role":"ops"}`, massField: "role"},
	"POST /v1/bank/callbacks": {signed: true},

	"POST /v1/auth/logout": {roles: signedIn, mass: `{"user_id":1}`, massField: "user_id"},

	"POST /v1/me/custody-account": {roles: accountUser, mass: `{"card_number":"6214830100000000001","custody_account_no":"X"}`, massField: "custody_account_no"},
	"GET /v1/me/account":          {roles: accountUser, ok: 200},
	"POST /v1/me/recharges":       {roles: accountUser, mass: `{"amount":"1.00","status":"succeeded"}`, massField: "status"},
	"GET /v1/me/fund-logs":        {roles: accountUser, ok: 200},
	"GET /v1/me/notifications":    {roles: signedIn, ok: 200},
	"POST /v1/me/withdrawals":     {roles: accountUser, mass: `{"amount":"1.00","fee":"0.00"}`, massField: "fee"},
	"GET /v1/me/withdrawals/{id}": {roles: accountUser, object: "withdrawal", ok: 200},

	"POST /v1/me/risk-assessment": {roles: investor, mass: `{"answers":[4,4,4,4,4,4,4,4,4,4],"risk_level":"C5"}`, massField: "risk_level"},
	"PUT /v1/me/auto-invest":      {roles: investor, mass: `{"enabled":true,"user_id":2}`, massField: "user_id"},
	"GET /v1/me/holdings":         {roles: investor, ok: 200},
	"GET /v1/me/bids":             {roles: investor, ok: 200},

	"POST /v1/me/holdings/{id}/transfer": {roles: investor, mass: `{"discount_rate":"0.01","price":"1.00"}`, massField: "price"},
	"GET /v1/transfers":                  {roles: investor, ok: 200},
	"GET /v1/transfers/{id}":             {roles: investor},
	"POST /v1/transfers/{id}/purchase":   {roles: investor, mass: `{"price":"1.00"}`, massField: "price"},
	"POST /v1/transfers/{id}/cancel":     {roles: investor, mass: `{"status":"cancelled"}`, massField: "status"},
	"GET /v1/me/transfers":               {roles: investor, ok: 200},

	"GET /v1/me/coupons": {roles: investor, ok: 200},
	"POST /v1/ops/coupons": {roles: ops, massField: "status",
		mass: `{"user_id":1,"kind":"cash","amount":"1.00","expires_on":"2099-01-01","status":"used"}`},
	"POST /v1/ops/bonus-account/top-ups":     {roles: ops, mass: `{"amount":"1.00","status":"succeeded"}`, massField: "status"},
	"GET /v1/ops/bonus-account":              {roles: ops, ok: 200},
	"GET /v1/ops/bonus-payments":             {roles: ops, ok: 200},
	"POST /v1/ops/bonus-payments/{id}/retry": {roles: ops, mass: `{"status":"paid"}`, massField: "status"},

	"POST /v1/loans":                              {roles: borrower, mass: `{"amount":"1000.00","rate":"0.01"}`, massField: "rate"},
	"GET /v1/loans/{id}":                          {roles: []lending.Role{lending.RoleBorrower, lending.RoleGuarantor, lending.RoleOps}, object: "loan", ok: 200},
	"POST /v1/loans/{id}/guarantee":               {roles: []lending.Role{lending.RoleGuarantor}, object: "guaranteed", mass: `{"decision":"accept","status":"listed"}`, massField: "status"},
	"GET /v1/me/guarantees":                       {roles: []lending.Role{lending.RoleGuarantor}, ok: 200},
	"POST /v1/me/card":                            {roles: accountUser, mass: `{"card_number":"6214830100000000001","custody_account_no":"X"}`, massField: "custody_account_no"},
	"POST /v1/ops/loans/{id}/recoveries":          {roles: ops, object: "loan", mass: `{"amount":"1.00","note":"x","user_id":1}`, massField: "user_id"},
	"POST /v1/loans/{id}/cancel":                  {roles: borrower, object: "loan", mass: `{"status":"cancelled"}`, massField: "status"},
	"GET /v1/loans/{id}/schedule":                 {roles: []lending.Role{lending.RoleBorrower, lending.RoleInvestor, lending.RoleOps}, object: "loan", ok: 200},
	"POST /v1/loans/{id}/repayment-authorization": {roles: borrower, object: "loan", mass: `{"max_amount":"1.00","loan_id":9}`, massField: "loan_id"},
	"POST /v1/loans/{id}/repayments":              {roles: borrower, object: "loan", mass: `{"kind":"next","amount":"0.01"}`, massField: "amount"},

	"GET /v1/listings":                {roles: signedIn, ok: 200},
	"GET /v1/listings/{id}":           {roles: signedIn, object: "listing", ok: 200},
	"POST /v1/listings/{id}/bids":     {roles: investor, object: "listing", mass: `{"amount":"100.00","status":"disbursed"}`, massField: "status"},
	"GET /v1/ops/loans":               {roles: ops, ok: 200, query: "?status=listed"},
	"GET /v1/ops/reconciliation/{id}": {roles: ops},
	"GET /v1/ops/reconciliation":      {roles: ops, ok: 200, query: "?status=mismatched"},

	"POST /v1/ops/loans/{id}/due-diligence":      {roles: ops, object: "loan", mass: `{"decision":"approve","status":"repaid"}`, massField: "status"},
	"POST /v1/ops/loans/{id}/full-tender-review": {roles: ops, object: "loan", mass: `{"decision":"approve","raised":"1.00"}`, massField: "raised"},
	"POST /v1/ops/loans/{id}/write-off":          {roles: ops, object: "loan", mass: `{"decision":"approve","grade":"A","user_id":1}`, massField: "user_id"},
	"POST /v1/ops/loans/{id}/disbursement/retry": {roles: ops, object: "loan", mass: `{"attempt":9}`, massField: "attempt"},
	"POST /v1/ops/clock/advance":                 {roles: ops, mass: `{"to":"2026-02-01","mode":"wall"}`, massField: "mode"},
	"POST /v1/ops/users/{id}/lock":               {roles: ops, object: "user", mass: `{"locked":true,"user_id":1}`, massField: "user_id"},
	"POST /v1/ops/blacklist":                     {roles: ops, mass: `{"id_number":"110105194912310021","added_by":1}`, massField: "added_by"},
	"GET /v1/ops/audit":                          {roles: ops, ok: 200},
	"GET /v1/ops/collection-tasks":               {roles: ops, ok: 200},
	"GET /v1/ops/events":                         {roles: ops, ok: 200},
	"POST /v1/ops/webhooks":                      {roles: ops, mass: `{"url":"https://example.com/h","types":["*"],"secret":"mine"}`, massField: "secret"},
	"GET /v1/ops/webhooks/{id}/deliveries":       {roles: ops},
	"GET /v1/ops/calendar/{id}":                  {roles: ops}, // {id} is a year: TestCalendar
	"PUT /v1/ops/calendar/{id}":                  {roles: ops, mass: `{"holidays":[],"workdays":[],"updated_by":1}`, massField: "updated_by"},
	"GET /v1/ops/users":                          {roles: ops, ok: 200, query: "?q=1"},
	"GET /v1/ops/reports/daily/{id}":             {roles: ops}, // {id} is a date: TestReportRoutes
	"GET /v1/ops/reports/monthly/{id}":           {roles: ops}, // {id} is a month: TestReportRoutes
	"GET /v1/ops/users/{id}":                     {roles: ops, object: "user", ok: 200},
	"GET /v1/ops/users/{id}/fund-logs":           {roles: ops, object: "user", ok: 200},
	"POST /v1/ops/users/{id}/reveal":             {roles: ops, object: "user", mass: `{"reason":"x","user_id":1}`, massField: "user_id"},

	// The ops console (api/console.go): HTML, the session in a cookie.
	"GET /console/static/{id}":                    {console: consolePublic, ok: 200},
	"GET /console/login":                          {console: consolePublic, ok: 200},
	"POST /console/login":                         {console: consoleSignInRoute},
	"POST /console/logout":                        {console: consolePage, mass: "user_id=1", massField: "user_id"},
	"GET /console/":                               {console: consolePage, ok: 200},
	"GET /console/loans":                          {console: consolePage, ok: 303, query: "?id=1"},
	"GET /console/loans/{id}":                     {console: consolePage, ok: 200},
	"POST /console/loans/{id}/reveal":             {console: consolePage, mass: "reason=x&user_id=1", massField: "user_id"},
	"POST /console/loans/{id}/due-diligence":      {console: consolePage, mass: "decision=approve&status=repaid", massField: "status"},
	"POST /console/loans/{id}/full-tender-review": {console: consolePage, mass: "decision=approve&raised=1.00", massField: "raised"},
	"POST /console/loans/{id}/write-off":          {console: consolePage, mass: "decision=approve&user_id=1", massField: "user_id"},
	"POST /console/loans/{id}/disbursement-retry": {console: consolePage, mass: "attempt=9", massField: "attempt"},
	"GET /console/reports":                        {console: consolePage, ok: 200},
	"GET /console/users":                          {console: consolePage, ok: 200, query: "?q=ops@test.cn"},
	"GET /console/users/{id}":                     {console: consolePage, ok: 200},
	"POST /console/users/{id}/reveal":             {console: consolePage, mass: "reason=x&user_id=1", massField: "user_id"},
	"GET /console/reconciliation":                 {console: consolePage}, // reads the bank: TestConsoleReconciliation
	"GET /console/disclosure":                     {console: consolePage, ok: 200},
	"GET /console/clock":                          {console: consolePage, ok: 200},
	"GET /console/calendar":                       {console: consolePage, ok: 200},
	"GET /console/coupons":                        {console: consolePage, ok: 200},
	"POST /console/coupons/grant":                 {console: consolePage, mass: "user_id=1&kind=cash&amount=1.00&expires_on=2099-01-01&status=used", massField: "status"},
	"POST /console/coupons/top-up":                {console: consolePage, mass: "amount=1.00&status=succeeded", massField: "status"},
	"POST /console/coupons/payments/{id}/retry":   {console: consolePage, mass: "status=paid", massField: "status"},
	"POST /console/calendar":                      {console: consolePage, mass: "year=2026&holidays=&workdays=&updated_by=1", massField: "updated_by"},
	"POST /console/clock/advance":                 {console: consolePage, mass: "to=2026-02-01&mode=wall", massField: "mode"},
	"GET /console/clock/progress":                 {console: consolePage, ok: 404}, // no advance started here
}

// routeKey names a chi route with its parameters as {id}.
func routeKey(method, route string) string {
	return method + " " + pathParam.ReplaceAllString(route, "{id}")
}

func servedRoutes(t *testing.T, s *Server) []string {
	var out []string
	require.NoError(t, chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, routeKey(method, route))
		return nil
	}))
	sort.Strings(out)
	return out
}

// TestSecurityTableCoversTheRouter: every route has a security rule, and
// every rule a route. A new route fails here until its row says who may
// call it.
func TestSecurityTableCoversTheRouter(t *testing.T) {
	served := servedRoutes(t, New(Deps{ClockMode: "sandbox"}))
	for _, r := range served {
		_, ok := securityTable[r]
		assert.True(t, ok, "%s has no row in securityTable", r)
	}
	for r := range securityTable {
		assert.Contains(t, served, r, "securityTable's %s is not served", r)
	}
}

// fixture is one of each kind of caller, and objects that belong to some.
type fixture struct {
	tokens map[lending.Role]string // a caller of each role who owns nothing below
	owner  map[string]string       // the token of the owner of each object
	ids    map[string]int64        // the object of each kind
}

func securityFixture(t *testing.T) (*Server, *httptest.Server, fixture) {
	s, srv := testServer(t)
	s.limits = newLimiter(10_000, 10_000) // this test is not about the limiter
	ctx := context.Background()
	f := fixture{tokens: map[lending.Role]string{}, owner: map[string]string{}, ids: map[string]int64{}}
	f.owner["loan"] = register(t, srv, "owner-b@test.cn", "borrower", 1)
	f.owner["withdrawal"] = register(t, srv, "owner-i@test.cn", "investor", 2)
	f.tokens[lending.RoleBorrower] = register(t, srv, "other-b@test.cn", "borrower", 3)
	f.tokens[lending.RoleInvestor] = register(t, srv, "other-i@test.cn", "investor", 4)
	f.tokens[lending.RoleGuarantor] = register(t, srv, "guarantor@test.cn", "guarantor", 5)
	require.NoError(t, s.EnsureOpsUser(ctx, "ops@test.cn", "ops-password-1"))
	f.tokens[lending.RoleOps] = login(t, srv, "ops@test.cn", "ops-password-1")

	borrowerA, err := s.q().UserGetByEmail(ctx, "owner-b@test.cn")
	require.NoError(t, err)
	investorA, err := s.q().UserGetByEmail(ctx, "owner-i@test.cn")
	require.NoError(t, err)
	today := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	loan, err := s.q().LoanInsert(ctx, dbq.LoanInsertParams{
		BorrowerID: borrowerA.ID, Amount: decimal.RequireFromString("5000.00"), TermMonths: 6, RepaymentMethod: "equal_installment",
		Purpose: "test", MonthlyIncome: decimal.RequireFromString("20000.00"), WorkflowID: "loan-sec", AppliedOn: today,
	})
	require.NoError(t, err)
	_, err = s.Pool.Exec(ctx, `UPDATE loans SET status = 'listed', grade = 'B', annual_rate = 0.085, listed_on = $2, listing_expires_on = $3 WHERE id = $1`, loan.ID, today, today.AddDate(0, 0, 7))
	require.NoError(t, err)
	var wd int64
	require.NoError(t, s.Pool.QueryRow(ctx, `INSERT INTO withdrawals (user_id, amount, fee, route, status, business_date)
		VALUES ($1, 10.00, 0, 'super_ebank', 'processing', $2) RETURNING id`, investorA.ID, today).Scan(&wd))
	f.ids["loan"], f.ids["listing"], f.ids["withdrawal"], f.ids["user"] = loan.ID, loan.ID, wd, borrowerA.ID
	// A loan awaiting the fixture's guarantor: the guarantor is the one
	// caller who may answer for it (another guarantor gets 404, as for
	// anyone else's loan: e2e TestAfterAMissedPayment).
	g, err := s.q().UserGetByEmail(ctx, "guarantor@test.cn")
	require.NoError(t, err)
	guaranteed, err := s.q().LoanInsert(ctx, dbq.LoanInsertParams{
		BorrowerID: borrowerA.ID, GuarantorID: &g.ID, Amount: decimal.RequireFromString("5000.00"), TermMonths: 6, RepaymentMethod: "equal_installment",
		Purpose: "test", MonthlyIncome: decimal.RequireFromString("20000.00"), WorkflowID: "loan-sec-guaranteed", AppliedOn: today,
	})
	require.NoError(t, err)
	f.ids["guaranteed"], f.owner["guaranteed"] = guaranteed.ID, f.tokens[lending.RoleGuarantor]
	// The withdrawal route reads through the accounts service; it needs no bank for that.
	s.Accounts = accounts.New(s.Pool, nil, s.Logger)
	return s, srv, f
}

func login(t *testing.T, srv *httptest.Server, email, password string) string {
	t.Helper()
	a := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"`+email+`","password":"`+password+`"}`)
	require.Equal(t, 200, a.status, a.raw)
	return a.body["token"].(string)
}

// TestSecurityEveryRouteEveryRole: for every route and every kind of caller,
// the answer's status and code. BFLA: a caller without the route's role is
// 401 unauthenticated (anonymous) or 403 forbidden. BOLA: another user's
// loan or withdrawal is 404 not_found, the same as one that does not exist.
// Mass assignment: a body that sets a field the caller does not own is 422
// validation_failed naming it.
func TestSecurityEveryRouteEveryRole(t *testing.T) {
	_, srv, f := securityFixture(t)
	callers := []lending.Role{"", lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor, lending.RoleOps}
	keys := make([]string, 0, len(securityTable))
	for k := range securityTable {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		rule := securityTable[key]
		method, pattern, _ := strings.Cut(key, " ")
		path := func(id int64) string { return strings.ReplaceAll(pattern, "{id}", fmt.Sprint(id)) }
		own := path(f.ids[rule.object])
		if rule.object == "" && strings.Contains(pattern, "{id}") {
			own = strings.ReplaceAll(pattern, "{id}", "2026-01-30") // a date
		}
		t.Run(key, func(t *testing.T) {
			if rule.console != notConsole {
				checkConsoleRoute(t, srv, f, key, rule)
				return
			}
			if rule.signed {
				for _, c := range callers {
					a := do(t, srv, method, own, f.tokens[c], "", `{}`)
					assert.Equal(t, 401, a.status, "caller %q without the bank's signature: %s", c, a.raw)
					assert.Equal(t, "unauthenticated", a.body["code"])
				}
				return
			}
			for _, c := range callers {
				token := f.tokens[c]
				allowed := rule.roles == nil || slices.Contains(rule.roles, c)
				switch {
				case !allowed && c == "":
					a := do(t, srv, method, own, "", "", "")
					assert.Equal(t, 401, a.status, "anonymous: %s", a.raw)
					assert.Equal(t, "unauthenticated", a.body["code"], "anonymous")
				case !allowed:
					a := do(t, srv, method, own, token, "", "")
					assert.Equal(t, 403, a.status, "%s: %s", c, a.raw)
					assert.Equal(t, "forbidden", a.body["code"], c)
				case (rule.object == "loan" || rule.object == "withdrawal") && c != lending.RoleOps:
					// Every caller here is someone other than the owner.
					a := do(t, srv, method, own, token, "", rule.mass)
					assert.Equal(t, 404, a.status, "%s on another user's %s: %s", c, rule.object, a.raw)
					assert.Equal(t, "not_found", a.body["code"], c)
				}
			}
			// The owner (or, without an owner, the first caller the route
			// admits) may call it; what they may not do is set a field they
			// do not own.
			caller := ""
			if o, ok := f.owner[rule.object]; ok && (rule.object != "loan" || slices.Contains(rule.roles, lending.RoleBorrower)) {
				caller = o
			} else {
				for _, c := range callers {
					if rule.roles == nil || slices.Contains(rule.roles, c) {
						caller = f.tokens[c]
						break
					}
				}
			}
			if rule.mass != "" {
				a := do(t, srv, method, own, caller, "", rule.mass)
				require.Equal(t, 422, a.status, "mass assignment: %s", a.raw)
				assert.Equal(t, "validation_failed", a.body["code"])
				errs, _ := a.body["errors"].([]any)
				require.NotEmpty(t, errs, a.raw)
				assert.Equal(t, rule.massField, errs[0].(map[string]any)["field"], a.raw)
			}
			if rule.ok != 0 {
				a := do(t, srv, method, own+rule.query, caller, "", "")
				assert.Equal(t, rule.ok, a.status, "the allowed call: %s", a.raw)
			}
			// A route that is nobody's own object answers every role it
			// admits, not only the first (guarantors were once refused the
			// listings that "anyone signed in" may read).
			if _, owned := f.owner[rule.object]; rule.ok != 0 && !owned {
				for _, c := range callers {
					if rule.roles == nil || slices.Contains(rule.roles, c) {
						a := do(t, srv, method, own+rule.query, f.tokens[c], "", "")
						assert.Equal(t, rule.ok, a.status, "the allowed call as %q: %s", c, a.raw)
					}
				}
			}
		})
	}
}

// TestNoBodyWhereNoneIsTaken: an endpoint without a body takes nothing but
// an empty one or {}; anything else would be silently ignored.
func TestNoBodyWhereNoneIsTaken(t *testing.T) {
	_, srv, f := securityFixture(t)
	for _, body := range []string{"", "{}", " \n"} {
		a := do(t, srv, "POST", "/v1/auth/logout", f.tokens[lending.RoleGuarantor], "", body)
		require.Equal(t, 204, a.status, "body %q: %s", body, a.raw)
		f.tokens[lending.RoleGuarantor] = login(t, srv, "guarantor@test.cn", "password-1")
	}
	a := do(t, srv, "POST", "/v1/auth/logout", f.tokens[lending.RoleInvestor], "", `[1]`)
	assert.Equal(t, 422, a.status)
	assert.Equal(t, "validation_failed", a.body["code"])
}
