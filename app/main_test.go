package app

import (
	"os"
	"testing"
)

// devKey is 32 bytes in base64, a key for tests only.
const devKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// The config tests run in wall mode, which needs personal data's keys
// (TestPIIKeys unsets them to see that).
func TestMain(m *testing.M) {
	os.Setenv("PII_KEYS", "k1:"+devKey)
	os.Setenv("PII_HASH_KEY", devKey)
	os.Exit(m.Run())
}
