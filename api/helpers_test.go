package api

import (
	"crypto/sha256"
	"encoding/hex"
)

// tokenHash is what the platform stores of a session's token (auth): tests
// find a session's row by it.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
