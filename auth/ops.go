package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

func (s *service) EnsureOpsUser(ctx context.Context, email, password string) error {
	email = NormalizeEmail(email)
	if len(password) < 8 || len(password) > 72 {
		return errors.New("ops password must be 8 to 72 bytes")
	}
	u, err := s.q.UserGetByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		u, err = s.insertOpsUser(ctx, email, password)
	}
	if err != nil {
		return err
	}
	if u.Role != lending.RoleOps {
		return fmt.Errorf("ops email %s is taken by a user with role %s", email, u.Role)
	}
	return nil
}

func (s *service) insertOpsUser(ctx context.Context, email, password string) (dbq.User, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return dbq.User{}, err
	}
	u, err := s.q.UserInsert(ctx, dbq.UserInsertParams{Email: email, PasswordHash: string(hash), Role: lending.RoleOps, Name: "ops"})
	if db.UniqueViolation(err) {
		// Another replica starting with us made it first.
		return s.q.UserGetByEmail(ctx, email)
	}
	return u, err
}
