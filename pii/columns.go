package pii

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db/dbq"
)

// SealUser is p with its ID number and phone, given plain, sealed and
// hashed: the one way a users row is written (auth's registration, tests).
func SealUser(p dbq.UserInsertParams) dbq.UserInsertParams {
	id, phone := p.IDNumber, p.Phone
	p.IDNumber, p.IDNumberHash = Seal(id), Hash(id)
	p.Phone, p.PhoneHash = Seal(phone), Hash(phone)
	return p
}

// SealPtr seals a nullable value.
func SealPtr(plain *string) *string {
	if plain == nil {
		return nil
	}
	s := Seal(*plain)
	return &s
}

// field is a column of personal data and its hash column, if it has one.
type field struct{ col, hash string }

// table is where the schema keeps personal data (migration 0030), and the
// key that names a row of it.
type table struct {
	name, key string
	fields    []field
}

// tables are every place the schema keeps personal data. The bank
// simulator's schema is the bank's, not the platform's.
var tables = []table{
	{"users", "id", []field{{"id_number", "id_number_hash"}, {"phone", "phone_hash"}, {"card_number", ""}}},
	{"card_changes", "(user_id, attempt)", []field{{"card_number", ""}}},
	{"blacklist", "ctid", []field{{"id_number", "id_number_hash"}}},
}

// plain is the SQL test of a value still plain.
func plain(col string) string {
	return fmt.Sprintf("(%s <> '' AND %s NOT LIKE '%s%%')", col, col, Prefix)
}

// SealExisting is migration 0030's Go step: it seals and hashes every value
// still plain (written before 0030), and returns how many it found. A row is rewritten
// whole, at once, since each of its CHECKs holds for the row as written; and
// only while still plain, so two processes starting at once seal it once.
// Run again, it finds nothing.
func SealExisting(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	n := 0
	for _, t := range tables {
		var cols, anyPlain []string
		for _, f := range t.fields {
			cols = append(cols, "COALESCE("+f.col+", '')")
			anyPlain = append(anyPlain, plain(f.col))
		}
		where := strings.Join(anyPlain, " OR ")
		rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s::text, %s FROM %s WHERE %s`,
			t.key, strings.Join(cols, ", "), t.name, where))
		if err != nil {
			return n, err
		}
		found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
			vals := make([]string, 1+len(t.fields))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			return vals, r.Scan(ptrs...)
		})
		if err != nil {
			return n, err
		}
		for _, row := range found {
			var sets []string
			args := []any{row[0]}
			for i, f := range t.fields {
				v := row[i+1]
				if v == "" || strings.HasPrefix(v, Prefix) {
					continue
				}
				args = append(args, Seal(v))
				sets = append(sets, fmt.Sprintf("%s = $%d", f.col, len(args)))
				if f.hash != "" {
					args = append(args, Hash(v))
					sets = append(sets, fmt.Sprintf("%s = $%d", f.hash, len(args)))
				}
				n++
			}
			if _, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s WHERE %s::text = $1 AND (%s)`,
				t.name, strings.Join(sets, ", "), t.key, where), args...); err != nil {
				return n, fmt.Errorf("sealing %s: %w", t.name, err)
			}
		}
	}
	return n, nil
}
