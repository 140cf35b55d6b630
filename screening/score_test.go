package screening_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/screening"
)

// The scorecard (docs/screening.md): 12,000.00 over 12 months is a burden of
// 1,000.00 + 12,000.00 × 11 % / 12 = 1,110.00 a month.
func TestCreditScoreBands(t *testing.T) {
	d := decimal.RequireFromString
	for _, tc := range []struct {
		name           string
		amount, income string
		age, want      int
	}{
		{"DTI 0.20 exactly, age 30, small: 600 + 160 + 30 + 20", "12000.00", "5550.00", 30, 810},
		{"DTI 0.50 exactly: + 60", "12000.00", "2220.00", 30, 710},
		{"DTI 0.6999: + 0", "12000.00", "1586.00", 30, 650},
		{"DTI 1.11: − 150", "12000.00", "1000.00", 30, 500},
		{"age 24 takes no age points", "12000.00", "5550.00", 24, 780},
		{"age 51 takes none either", "12000.00", "5550.00", 51, 780},
		{"no income: 300 whatever else", "12000.00", "0.00", 30, 300},
	} {
		assert.Equal(t, tc.want, screening.CreditScore(d(tc.amount), d(tc.income), 12, tc.age), tc.name)
	}
	// Over 20,000.00 takes no size points: 24,000.00 over 24 months is a burden
	// of 1,000.00 + 220.00, DTI 1,220.00 / 11,100.00 = 0.11.
	assert.Equal(t, 790, screening.CreditScore(d("24000.00"), d("11100.00"), 24, 30), "600 + 160 + 30")
}

// Grades by score: ≥ 750 A, ≥ 700 B, ≥ 650 C, ≥ 600 D, else E.
func TestGradeForBounds(t *testing.T) {
	for score, want := range map[int]money.Grade{
		810: "A", 750: "A", 749: "B", 700: "B", 699: "C", 650: "C", 649: "D", 600: "D", 599: "E", 300: "E",
	} {
		assert.Equal(t, want, screening.GradeFor(score), "score %d", score)
	}
}
