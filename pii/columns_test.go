package pii_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/pii"
)

// before is the platform's migrations up to, not including, 0030: the
// schema a database had when it held personal data plain.
func before(t *testing.T) fs.FS {
	all := db.Migrations()
	names, err := fs.Glob(all, "*.sql")
	require.NoError(t, err)
	out := fstest.MapFS{}
	for _, n := range names {
		if n < "0030" {
			raw, err := fs.ReadFile(all, n)
			require.NoError(t, err)
			out[n] = &fstest.MapFile{Data: raw}
		}
	}
	return out
}

// Migration 0030 and its Go step: rows written plain before it come out
// sealed and hashed, open to what they were, are found by their hash, and
// a second run changes nothing; rows written after it must be sealed.
func TestSealExisting(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.NewWith(t, dbtest.Migration{FS: before(t), Table: "schema_migrations"})
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO users (email, password_hash, role, name, id_number, phone, custody_account_no, card_number)
		VALUES ('a@x', 'x', 'investor', '张三', '11010519850101001X', '13800000001', 'CA-1', '6214830100000000001'),
		       ('ops@x', 'x', 'ops', 'ops', '', '', NULL, NULL)`)
	exec(`INSERT INTO card_changes (user_id, attempt, card_number, status) VALUES (1, 1, '6214830100000000002', 'failed')`)
	exec(`INSERT INTO blacklist (id_number, reason) VALUES ('110105198501010029', 'fraud')`)

	require.NoError(t, db.Migrate(ctx, pool, db.Migrations(), "schema_migrations"))
	n, err := pii.SealExisting(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, 5, n, "id, phone, card of one user; one card change; one blacklisted number")

	var id, phone, card, changed, black string
	var idHash, phoneHash, blackHash []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT u.id_number, u.phone, u.card_number, u.id_number_hash, u.phone_hash, c.card_number
		FROM users u JOIN card_changes c ON c.user_id = u.id WHERE u.id = 1`).Scan(&id, &phone, &card, &idHash, &phoneHash, &changed))
	require.NoError(t, pool.QueryRow(ctx, `SELECT id_number, id_number_hash FROM blacklist`).Scan(&black, &blackHash))
	for plain, sealed := range map[string]string{"11010519850101001X": id, "13800000001": phone,
		"6214830100000000001": card, "6214830100000000002": changed, "110105198501010029": black} {
		assert.True(t, strings.HasPrefix(sealed, pii.Prefix), sealed)
		got, err := pii.Open(sealed)
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	}
	assert.Equal(t, pii.Hash("11010519850101001x"), idHash)
	assert.Equal(t, pii.Hash("13800000001"), phoneHash)
	assert.Equal(t, pii.Hash("110105198501010029"), blackHash)
	var opsID string
	require.NoError(t, pool.QueryRow(ctx, `SELECT id_number FROM users WHERE id = 2`).Scan(&opsID))
	assert.Equal(t, "", opsID, "empty stays empty")

	n, err = pii.SealExisting(ctx, pool)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left plain")

	// From now on a plain number is refused by the table itself.
	_, err = pool.Exec(ctx, `INSERT INTO users (email, password_hash, role, name, id_number, phone)
		VALUES ('b@x', 'x', 'investor', 'b', '110105198501010037', '13800000002')`)
	assert.ErrorContains(t, err, "users_id_number_sealed")
	_, err = pool.Exec(ctx, `UPDATE users SET card_number = '6214830100000000003' WHERE id = 1`)
	assert.ErrorContains(t, err, "users_card_number_sealed")
	_, err = pool.Exec(ctx, `INSERT INTO blacklist (id_number, reason) VALUES ('110105198501010045', 'x')`)
	assert.ErrorContains(t, err, "blacklist_id_number_sealed")
}
