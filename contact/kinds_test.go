package contact_test

import (
	"context"
	"regexp"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/lending"
)

// The database's check on notifications.kind and the Go vocabulary name the
// same kinds: a kind added to one only would be refused at its first notice,
// in the transaction of the change it tells of.
func TestNoticeKindsMatchTheSchema(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var def string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
		JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname = 'notifications' AND r.relnamespace = current_schema()::regnamespace
		AND c.conname = 'notifications_kind_check'`).Scan(&def))
	var inSchema []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(def, -1) {
		inSchema = append(inSchema, m[1])
	}
	inGo := lending.Strings(lending.NoticeKinds...)
	sort.Strings(inSchema)
	sort.Strings(inGo)
	assert.Equal(t, inGo, inSchema)
}
