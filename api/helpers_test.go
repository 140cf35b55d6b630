package api

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// tokenHash is what the platform stores of a session's token (auth): tests
// find a session's row by it.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// q is the server's database as the tests' fixtures write and read it: the
// API itself never calls a generated query (db.TestAPICallsNoQuery).
func (s *Server) q() *dbq.Queries { return db.Queries(s.Pool) }
