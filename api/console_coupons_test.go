package api

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

// The console's coupons page shows the bonus account's figures and refuses
// a grant beyond the headroom as the API does (bonus_budget_exceeded),
// keeping what ops typed.
func TestConsoleCoupons(t *testing.T) {
	f := newConsoleFixture(t)
	inv := f.user(t, lending.RoleInvestor, 1, "李券")
	p := browse(t, f.srv, "GET", "/console/coupons", f.ops, nil)
	require.Equal(t, 200, p.status, p.body)
	assert.Contains(t, p.body, `<td id="bonus-headroom">0.00</td>`)
	assert.Contains(t, p.body, `<td colspan="9" class="muted">none</td>`, "no refused payments")

	p = browse(t, f.srv, "POST", "/console/coupons/grant", f.ops, url.Values{"csrf": {csrfToken(f.ops)},
		"user_id": {strconv.FormatInt(inv.ID, 10)}, "kind": {"cash"}, "amount": {"20.00"}, "expires_on": {"2026-02-28"}, "note": {"新人红包"}})
	assert.Equal(t, 409, p.status, p.body)
	assert.Contains(t, p.body, "bonus_budget_exceeded")
	assert.Contains(t, p.body, `value="新人红包"`, "what ops typed is kept")

	p = browse(t, f.srv, "POST", "/console/coupons/grant", f.ops, url.Values{"csrf": {csrfToken(f.ops)},
		"user_id": {strconv.FormatInt(inv.ID, 10)}, "kind": {"interest"}, "extra_rate": {"0.02"}, "months": {"40"}, "expires_on": {"2026-02-28"}})
	assert.Equal(t, 422, p.status, p.body)
	assert.Contains(t, p.body, "months")
}
