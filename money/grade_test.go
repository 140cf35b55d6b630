package money

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTermsForTheGradeTable(t *testing.T) {
	for _, tc := range []struct {
		g          Grade
		rate, fee  string
		minimumFor RiskLevel
	}{
		{"A", "0.065", "0.01", "C1"},
		{"B", "0.085", "0.015", "C2"},
		{"C", "0.11", "0.02", "C3"},
		{"D", "0.14", "0.03", "C4"},
		{"E", "0.18", "0.04", "C5"},
	} {
		terms, err := TermsFor(tc.g)
		require.NoError(t, err)
		assert.True(t, terms.AnnualRate.Equal(d(tc.rate)), "grade %s rate %s", tc.g, terms.AnnualRate)
		assert.True(t, terms.ServiceFeeRate.Equal(d(tc.fee)), "grade %s fee %s", tc.g, terms.ServiceFeeRate)
		assert.Equal(t, tc.minimumFor, terms.MinRiskLevel)
	}
	assert.Equal(t, []Grade{"A", "B", "C", "D", "E"}, Grades())
	for _, g := range []Grade{"", "F", "a", "AA"} {
		_, err := TermsFor(g)
		assert.ErrorIs(t, err, ErrUnknownGrade, string(g))
	}
}

func TestServiceFeeAndRiskReserve(t *testing.T) {
	for _, tc := range []struct {
		g         Grade
		principal string
		fee       string
	}{
		{"A", "60000.00", "600.00"},
		{"B", "60000.00", "900.00"},
		{"C", "60000.00", "1200.00"},
		{"D", "60000.00", "1800.00"},
		{"E", "60000.00", "2400.00"},
		{"B", "10000.01", "150.00"},   // 150.00015
		{"B", "12345.67", "185.19"},   // 185.18505
		{"B", "1001.00", "15.02"},     // 15.015, an exact half cent
		{"E", "12345.67", "493.83"},   // 493.8268
		{"A", "200000.00", "2000.00"}, // the largest loan
	} {
		fee, err := ServiceFee(tc.g, d(tc.principal))
		require.NoError(t, err)
		assert.Equal(t, tc.fee, fee.StringFixed(2), "grade %s on %s", tc.g, tc.principal)
	}
	_, err := ServiceFee("F", d("1.00"))
	assert.ErrorIs(t, err, ErrUnknownGrade)

	for principal, want := range map[string]string{
		"60000.00": "1200.00",
		"12345.67": "246.91", // 246.9134
		"1000.25":  "20.01",  // 20.005, an exact half cent
		"1.00":     "0.02",
	} {
		assert.Equal(t, want, RiskReserve(d(principal)).StringFixed(2), principal)
	}
}

func TestSuitableMatrix(t *testing.T) {
	// Level Ci may bid on grades up to the i-th: C1 → A; C3 → A, B, C; C5 → all.
	grades := []Grade{"A", "B", "C", "D", "E"}
	for i := 1; i <= 5; i++ {
		level := RiskLevel(fmt.Sprintf("C%d", i))
		assert.True(t, ValidRiskLevel(level))
		for j, g := range grades {
			assert.Equal(t, i >= j+1, Suitable(level, g), "%s on %s", level, g)
		}
	}
	for _, level := range []RiskLevel{"", "C0", "C6", "C9", "c5", "C", "C55", "B5"} {
		assert.False(t, ValidRiskLevel(level), level)
		for _, g := range grades {
			assert.False(t, Suitable(level, g), "%s on %s", level, g)
		}
	}
	assert.False(t, Suitable("C5", "F"))
}

func TestRiskLevelBands(t *testing.T) {
	for sum, want := range map[int]RiskLevel{
		0: "C1", 8: "C1", 9: "C2", 16: "C2", 17: "C3", 24: "C3", 25: "C4", 32: "C4", 33: "C5", 40: "C5",
	} {
		answers := make([]int, 10)
		for i := 0; i < sum; i++ {
			answers[i%10]++
		}
		got, err := RiskLevelFromAnswers(answers)
		require.NoError(t, err)
		assert.Equal(t, want, got, "sum %d", sum)
	}
	for name, answers := range map[string][]int{
		"too few":  {1, 2, 3},
		"too many": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"none":     nil,
		"above 4":  {5, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"negative": {-1, 4, 4, 4, 4, 4, 4, 4, 4, 4},
	} {
		_, err := RiskLevelFromAnswers(answers)
		assert.ErrorIs(t, err, ErrAssessment, name)
	}
}
