package api

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRiskAssessment(t *testing.T) {
	s, srv := testServer(t)
	inv := register(t, srv, "risk@test.cn", "investor", 1)
	level := func() *string {
		u, err := s.q().UserGetByEmail(context.Background(), "risk@test.cn")
		require.NoError(t, err)
		return u.RiskLevel
	}
	assert.Nil(t, level(), "no level before the assessment")

	// The bands' edges are money's to test; here: the answer reaches the user row.
	for answers, want := range map[string]string{
		"[0,0,0,0,0,0,0,0,0,0]": "C1",
		"[1,1,1,1,1,1,1,1,1,0]": "C2",
		"[4,4,4,4,4,4,4,4,0,0]": "C4",
		"[4,4,4,4,4,4,4,4,4,4]": "C5",
	} {
		a := do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", `{"answers":`+answers+`}`)
		require.Equal(t, 200, a.status, a.raw)
		assert.Equal(t, want, a.body["risk_level"], answers)
		require.NotNil(t, level())
		assert.Equal(t, want, *level(), "answering again replaces the level")
	}

	for _, body := range []string{
		`{"answers":[0,0,0,0,0,0,0,0,0]}`,
		`{"answers":[0,0,0,0,0,0,0,0,0,0,0]}`,
		`{"answers":[5,0,0,0,0,0,0,0,0,0]}`,
		`{"answers":[-1,0,0,0,0,0,0,0,0,0]}`,
		`{"answers":null}`,
		`{}`,
	} {
		a := do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", body)
		require.Equal(t, 422, a.status, body)
		assert.Equal(t, "answers", a.body["errors"].([]any)[0].(map[string]any)["field"], body)
	}
	a := do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", `{"answers":[0.5,0,0,0,0,0,0,0,0,0]}`)
	require.Equal(t, 422, a.status)
	assert.Contains(t, a.raw, "must be an integer")

	bor := register(t, srv, "bor@test.cn", "borrower", 2)
	a = do(t, srv, "POST", "/v1/me/risk-assessment", bor, "", `{"answers":[0,0,0,0,0,0,0,0,0,0]}`)
	assert.Equal(t, 403, a.status, "only investors are assessed")
}
