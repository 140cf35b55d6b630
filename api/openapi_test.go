package api

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// apiMDEndpoints is the contract's endpoint tables (docs/api.md "Endpoints"),
// both rounds, row by row, plus the bank's callback. The tables are the fixed
// contract; this list is their copy in code, so a route dropped from
// openapi.yaml fails here.
var apiMDEndpoints = []string{
	"POST /v1/auth/register",
	"POST /v1/auth/login",
	"POST /v1/me/custody-account",
	"GET /v1/me/account",
	"POST /v1/me/recharges",
	"POST /v1/me/withdrawals",
	"GET /v1/me/withdrawals/{id}",
	"GET /v1/me/fund-logs",
	"POST /v1/me/risk-assessment",
	"PUT /v1/me/auto-invest",
	"POST /v1/loans",
	"GET /v1/loans/{id}",
	"POST /v1/loans/{id}/cancel",
	"GET /v1/loans/{id}/schedule",
	"POST /v1/loans/{id}/repayment-authorization",
	"POST /v1/loans/{id}/repayments",
	"GET /v1/listings",
	"GET /v1/listings/{loan_id}",
	"POST /v1/listings/{loan_id}/bids",
	"GET /v1/me/holdings",
	"GET /v1/ops/loans",
	"POST /v1/ops/loans/{id}/due-diligence",
	"POST /v1/ops/loans/{id}/full-tender-review",
	"POST /v1/ops/loans/{id}/write-off",
	"POST /v1/ops/loans/{id}/disbursement/retry",
	"GET /v1/ops/reconciliation/{date}",
	"GET /v1/clock",
	"POST /v1/ops/clock/advance",
	"GET /v1/calculator/schedule",
	"GET /v1/stats",
	"GET /healthz",
	"GET /readyz",
	"GET /openapi.yaml",
	"POST /v1/bank/callbacks",
	// The second round.
	"POST /v1/auth/logout",
	"GET /v1/me/bids",
	"GET /v1/me/guarantees",
	"POST /v1/loans/{id}/guarantee",
	"GET /v1/me/notifications",
	"POST /v1/me/card",
	"GET /v1/ops/collection-tasks",
	"POST /v1/ops/loans/{id}/recoveries",
	"POST /v1/ops/users/{id}/lock",
	"POST /v1/ops/blacklist",
	"GET /v1/ops/audit",
	"GET /metrics",
	// The third round.
	"GET /v1/ops/events",
	"POST /v1/ops/webhooks",
	"GET /v1/ops/webhooks/{id}/deliveries",
	"GET /v1/ops/calendar/{year}",
	"PUT /v1/ops/calendar/{year}",
	"GET /v1/me/coupons",
	"POST /v1/ops/coupons",
	"POST /v1/ops/bonus-account/top-ups",
	"GET /v1/ops/bonus-account",
	"GET /v1/ops/users",
	"GET /v1/ops/users/{id}",
	"GET /v1/ops/users/{id}/fund-logs",
	"POST /v1/ops/users/{id}/reveal",
	"GET /v1/ops/reports/daily/{date}",
	"GET /v1/ops/reports/monthly/{month}",
}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(openapiYAML, &doc))
	return doc
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}

// operations yields "METHOD /path" → the operation object.
func operations(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			if httpMethods[m] {
				out[strings.ToUpper(m)+" "+path] = op.(map[string]any)
			}
		}
	}
	return out
}

func TestOpenAPICoversAPIMD(t *testing.T) {
	doc := loadOpenAPI(t)
	assert.Regexp(t, `^3\.1\.\d+$`, doc["openapi"])
	ops := operations(doc)
	for _, e := range apiMDEndpoints {
		assert.Contains(t, ops, e, "the contract's %s is not in openapi.yaml", e)
	}
}

// TestOpenAPIIsSound checks what a client generator would trip on: refs that
// go nowhere, operations without ids, path parameters not declared, and
// request bodies that would let unknown fields through (docs/api.md "Conventions" refuses them).
func TestOpenAPIIsSound(t *testing.T) {
	doc := loadOpenAPI(t)

	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	require.NotEmpty(t, refs)
	for _, r := range refs {
		_, ok := resolve(doc, r)
		assert.True(t, ok, "$ref %s resolves to nothing", r)
	}

	ids := map[string]string{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for name, op := range operations(doc) {
		id, _ := op["operationId"].(string)
		assert.NotEmpty(t, id, "%s has no operationId", name)
		if other, dup := ids[id]; dup {
			t.Errorf("operationId %s is used by %s and %s", id, other, name)
		}
		ids[id] = name

		responses, _ := op["responses"].(map[string]any)
		_, hasDefault := responses["default"]
		assert.True(t, hasDefault, "%s: every operation may answer a problem (401, 429, 500…)", name)

		declared := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := deref(doc, p)
			if pm["in"] == "path" {
				declared[pm["name"].(string)] = true
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(strings.SplitN(name, " ", 2)[1], -1) {
			assert.True(t, declared[m[1]], "%s: path parameter {%s} is not declared", name, m[1])
		}

		if rb, ok := op["requestBody"]; ok {
			body := deref(doc, rb)
			// JSON for the API, a form for the console's pages: either way
			// unknown fields are refused, except in the bank's callbacks.
			for _, media := range body["content"].(map[string]any) {
				schema := deref(doc, media.(map[string]any)["schema"])
				if name == "POST /v1/bank/callbacks" {
					assert.Equal(t, true, schema["additionalProperties"], "%s: the bank's body may carry fields the platform does not know", name)
					continue
				}
				assert.Equal(t, false, schema["additionalProperties"], "%s: unknown fields are refused, so the schema says so", name)
			}
		}
	}
}

// TestOpenAPIProblemCodes: the Problem schema names every code the
// translator can answer.
func TestOpenAPIProblemCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	problem, ok := resolve(doc, "#/components/schemas/Problem")
	require.True(t, ok)
	desc := problem.(map[string]any)["properties"].(map[string]any)["code"].(map[string]any)["description"].(string)
	codes := []string{codeInternal, "method_not_allowed"}
	for c := range statusByCode {
		codes = append(codes, c)
	}
	for _, c := range codes {
		assert.Regexp(t, `\b`+regexp.QuoteMeta(c)+`\b`, desc, "code %s is not documented", c)
	}
}

func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	New(Deps{Logger: testLogger()}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.yaml", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	assert.Equal(t, openapiYAML, rec.Body.Bytes())
}

// resolve follows a local JSON pointer ("#/components/schemas/Money").
func resolve(doc map[string]any, ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = doc
	for _, part := range strings.Split(ptr, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref is v, or what its $ref points at.
func deref(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	if r, ok := m["$ref"].(string); ok {
		target, _ := resolve(doc, r)
		m, _ = target.(map[string]any)
	}
	return m
}
