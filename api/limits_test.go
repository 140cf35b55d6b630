package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

func firstField(t *testing.T, a answer) string {
	t.Helper()
	require.Equal(t, 422, a.status, a.raw)
	require.Equal(t, "validation_failed", a.body["code"], a.raw)
	errs, _ := a.body["errors"].([]any)
	require.NotEmpty(t, errs, a.raw)
	return errs[0].(map[string]any)["field"].(string)
}

// Probe 3 of issue 10: a 400,000-digit annual_rate used to be parsed before
// it was refused. Every number a client sends as text is now length-checked
// first, in the query and in the body; page sizes are capped.
func TestInputLimits(t *testing.T) {
	s, srv := testServer(t)
	s.limits = newLimiter(10_000, 10_000)
	huge := strings.Repeat("1", 400_000)
	long := strings.Repeat("1", 1_500) // under the query cap, over every number's
	calc := "/v1/calculator/schedule?principal=1000.00&term_months=3&method=equal_installment&annual_rate="

	assert.Equal(t, "query", firstField(t, do(t, srv, "GET", calc+huge, "", "", "")), "refused before any parameter is read")
	assert.Equal(t, "annual_rate", firstField(t, do(t, srv, "GET", calc+long, "", "", "")))
	assert.Equal(t, "annual_rate", firstField(t, do(t, srv, "GET", calc+"1e-1", "", "", "")), "plain decimals only")
	assert.Equal(t, 200, do(t, srv, "GET", calc+"0.12", "", "", "").status)
	for param, value := range map[string]string{"principal": long, "term_months": long, "start_date": long} {
		q := strings.Replace(calc+"0.12", param+"=", "x=", 1) + "&" + param + "=" + value
		assert.Equal(t, param, firstField(t, do(t, srv, "GET", q, "", "", "")), param)
	}

	ops := opsToken(t, s, srv)
	b := register(t, srv, "b@test.cn", "borrower", 1)
	inv := register(t, srv, "i@test.cn", "investor", 2)
	loan := seededLoan(t, s, "b@test.cn", lending.StatusDueDiligence)
	for path, tc := range map[string]struct{ token, body, field string }{
		"/v1/loans": {b, `{"amount":"` + strings.Repeat("9", 100_000) + `.00","term_months":3,"repayment_method":"bullet","purpose":"x","monthly_income":"1.00"}`, "amount"},
		fmt.Sprintf("/v1/ops/loans/%d/due-diligence", loan.ID): {ops, `{"decision":"approve","annual_rate":"0.` + strings.Repeat("1", 100_000) + `","note":"x"}`, "annual_rate"},
		"/v1/me/recharges": {inv, `{"amount":"` + huge + `"}`, "amount"},
	} {
		assert.Equal(t, tc.field, firstField(t, do(t, srv, "POST", path, tc.token, "", tc.body)), path)
	}
	a := do(t, srv, "PUT", "/v1/me/auto-invest", inv, "", `{"enabled":true,"amount_per_loan":"100.00","min_annual_rate":"`+long+`","max_term_months":12,"max_grade":"C","keep_available":"0.00"}`)
	assert.Equal(t, "min_annual_rate", firstField(t, a))

	// Page sizes: 1 to 100, default 50, on every list.
	for _, path := range []string{"/v1/listings", "/v1/me/fund-logs", "/v1/ops/loans?status=listed", "/v1/ops/audit"} {
		token := inv
		if strings.HasPrefix(path, "/v1/ops") {
			token = ops
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		for _, bad := range []string{"limit=101", "limit=0", "limit=-5", "limit=" + long, "cursor=" + long, "cursor=abc"} {
			a := do(t, srv, "GET", path+sep+bad, token, "", "")
			assert.Equal(t, 422, a.status, "%s %s", path, bad)
		}
		assert.Equal(t, 200, do(t, srv, "GET", path+sep+"limit=100", token, "", "").status, path)
	}
	a = do(t, srv, "GET", "/v1/me/holdings", "Bearer-"+huge[:300], "", "")
	assert.Equal(t, 401, a.status, "an absurd token is no session")
}

func TestParseHelpers(t *testing.T) {
	for in, ok := range map[string]bool{"0": true, "0.12": true, "0.123456": true, "0.1234567": false, "1e-1": false, "-0.1": false, " 0.1": false, "": false, "1000": false} {
		_, fe := parseRate("r", in, lending.MaxAmount)
		assert.Equal(t, ok, fe == nil, "%q", in)
	}
	for in, ok := range map[string]bool{"1": true, "36": true, "37": false, "0": false, "01": true, "+1": true, "1.0": false, "99999999999999999999": false} {
		_, fe := parseInt("n", in, 1, 36)
		assert.Equal(t, ok, fe == nil, "%q", in)
	}
	for in, ok := range map[string]bool{"2026-02-28": true, "2026-02-29": false, "2026-2-28": false, "2026-02-28T00:00:00Z": false} {
		_, fe := parseDate("d", in)
		assert.Equal(t, ok, fe == nil, "%q", in)
	}
}
