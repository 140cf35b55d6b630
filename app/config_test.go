package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidateNamesWhatIsMissing(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "")
	t.Setenv("CLOCK_MODE", "fast")
	t.Setenv("OPS_EMAIL", "ops@x")
	t.Setenv("OPS_PASSWORD", "")
	c, err := FromEnv()
	assert.NoError(t, err)
	err = c.Validate("api")
	assert.ErrorContains(t, err, "BANK_HMAC_SECRET is required for api")
	assert.ErrorContains(t, err, `CLOCK_MODE "fast"`)
	assert.ErrorContains(t, err, "OPS_EMAIL and OPS_PASSWORD go together")
	assert.NoError(t, c.Validate("migrate"), "migrate needs only the database")

	t.Setenv("CLOCK_START", "2026-02-30")
	_, err = FromEnv()
	assert.ErrorContains(t, err, "CLOCK_START")
}
