package api

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/audit"
)

// TestCalendar: ops set a year's holidays and make-up workdays
// (PUT /v1/ops/calendar/{year}), read it back (GET), and the audit log names
// who did it; a day of another year, a weekday as a make-up workday, or a
// date that is no date are refused with the field named.
func TestCalendar(t *testing.T) {
	s, srv := testServer(t)
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	ops := login(t, srv, "ops@test.cn", "ops-password-1")

	a := do(t, srv, "GET", "/v1/ops/calendar/2026", ops, "", "")
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"year":2026,"holidays":[],"workdays":[],"set":false,"updated_by":null,"updated_at":null}`, a.raw)

	a = do(t, srv, "PUT", "/v1/ops/calendar/2026", ops, "", `{"holidays":["2026-10-02","2026-10-01"],"workdays":["2026-10-10","2026-09-20"]}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, []any{"2026-10-01", "2026-10-02"}, a.body["holidays"])
	assert.Equal(t, []any{"2026-09-20", "2026-10-10"}, a.body["workdays"])
	assert.Equal(t, true, a.body["set"])
	got := do(t, srv, "GET", "/v1/ops/calendar/2026", ops, "", "")
	assert.Equal(t, a.body, got.body)

	for body, field := range map[string]string{
		`{"holidays":["2027-01-01"]}`:                 "holidays",
		`{"workdays":["2026-10-09"]}`:                 "workdays", // a Friday
		`{"holidays":["2026-02-30"]}`:                 "holidays[0]",
		`{"holidays":["2026-10-01"],"workdays":null}`: "",
	} {
		a := do(t, srv, "PUT", "/v1/ops/calendar/2026", ops, "", body)
		if field == "" {
			assert.Equal(t, 200, a.status, a.raw)
			continue
		}
		require.Equal(t, 422, a.status, "%s: %s", body, a.raw)
		assert.Equal(t, field, a.body["errors"].([]any)[0].(map[string]any)["field"], body)
	}
	a = do(t, srv, "GET", "/v1/ops/calendar/1999", ops, "", "")
	assert.Equal(t, 422, a.status, a.raw)

	items, err := audit.List(context.Background(), s.q(), audit.Filter{Action: audit.CalendarSet, Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 2, "the two calendars set; the refused ones wrote nothing")
	assert.Equal(t, "calendar:2026", items[0].Target)
	assert.Equal(t, "holidays: 2026-10-01; workdays: none", items[0].Note)
}

// TestConsoleCalendar: the console's calendar page shows the year and sets
// it through the same service; a refusal shows the text ops typed.
func TestConsoleCalendar(t *testing.T) {
	f := newConsoleFixture(t)
	csrf := csrfToken(f.ops)
	p := browse(t, f.srv, "GET", "/console/calendar", f.ops, nil)
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, p.body, "Bank calendar 2026", "the business date's year")
	assert.Contains(t, p.body, "Not set: Monday to Friday throughout.")

	p = browse(t, f.srv, "POST", "/console/calendar", f.ops, url.Values{"csrf": {csrf}, "year": {"2026"},
		"holidays": {"2026-02-15, 2026-02-16\n2026-02-17"}, "workdays": {"2026-02-14 2026-02-28"}})
	require.Equal(t, 303, p.status, p.body)
	assert.Equal(t, "/console/calendar?done=1&year=2026", p.location)
	p = browse(t, f.srv, "GET", p.location, f.ops, nil)
	assert.Contains(t, p.body, "The calendar of 2026 is saved.")
	assert.Contains(t, p.body, `<ul id="holidays"><li>2026-02-15</li><li>2026-02-16</li><li>2026-02-17</li></ul>`)
	assert.Contains(t, p.body, `<ul id="workdays"><li>2026-02-14</li><li>2026-02-28</li></ul>`)

	p = browse(t, f.srv, "POST", "/console/calendar", f.ops, url.Values{"csrf": {csrf}, "year": {"2026"},
		"holidays": {"2026-02-15"}, "workdays": {"2026-02-16"}})
	assert.Equal(t, 422, p.status)
	assert.Contains(t, p.body, "a make-up workday is a Saturday or a Sunday")
	assert.Contains(t, p.body, `<ul id="holidays"><li>2026-02-15</li><li>2026-02-16</li><li>2026-02-17</li></ul>`, "unchanged")
}
