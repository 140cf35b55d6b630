package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A listing shows the schedule the loan would repay if disbursed on the
// business date (2026-01-31 here): 12,000.00 at 11 % over 3 months, equal
// installments of 4,073.56, due on the 31st clamped to each month's end.
// Worked by hand: r = 0.11/12; A = round(12000·r·(1+r)³/((1+r)³−1)) =
// 4073.56; interest 110.00, 73.67, 37.00; the last period takes the rest of
// the principal, 4036.55, and pays 4073.55.
func TestListingsShowTheScheduleIfDisbursedToday(t *testing.T) {
	p := newPlatform(t)
	tok, _ := p.person(t, "investor", 1, "")
	loan := p.e.ListedLoan(p.e.User("borrower", "0"), "12000.00", "C", "0.11", 3, false)

	type inst struct{ no, due, principal, interest, payment, remaining string }
	want := []inst{
		{"1", "2026-02-28", "3963.56", "110.00", "4073.56", "8036.44"},
		{"2", "2026-03-31", "3999.89", "73.67", "4073.56", "4036.55"},
		{"3", "2026-04-30", "4036.55", "37.00", "4073.55", "0.00"},
	}
	scheduleOf := func(item map[string]any) []inst {
		var got []inst
		for _, x := range item["schedule"].([]any) {
			m := x.(map[string]any)
			got = append(got, inst{fmt.Sprint(m["no"]), m["due_date"].(string), m["principal"].(string),
				m["interest"].(string), m["payment"].(string), m["remaining_principal"].(string)})
		}
		return got
	}

	one := do(t, p.srv, "GET", fmt.Sprintf("/v1/listings/%d", loan.ID), tok, "", "")
	require.Equal(t, 200, one.status, one.raw)
	assert.Equal(t, want, scheduleOf(one.body))

	list := do(t, p.srv, "GET", "/v1/listings", tok, "", "")
	require.Equal(t, 200, list.status, list.raw)
	items := list.body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, want, scheduleOf(items[0].(map[string]any)))

	// The calculator, asked the same terms for the same day, agrees.
	calc := do(t, p.srv, "GET", "/v1/calculator/schedule?principal=12000.00&annual_rate=0.11&term_months=3&method=equal_installment", "", "", "")
	require.Equal(t, 200, calc.status, calc.raw)
	assert.Equal(t, want, scheduleOf(map[string]any{"schedule": calc.body["installments"]}))
}
