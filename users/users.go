// Package users is the platform's people as the rest of the code sees them
// (a User: the users row without its password hash) and what ops do to them
// (docs/security.md "Risk controls"): lock a user, blacklist an ID number,
// each with its audit record in the same transaction; and an investor's risk
// assessment. Signing up and signing in are auth's.
package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/pii"
)

// User is a user as the platform's code sees one: the users row without its
// password hash, so the hash never travels beyond auth.
type User struct {
	ID               int64
	Role             lending.Role
	Email            string
	Name             string
	IDNumber         string
	Phone            string
	RiskLevel        *string
	Locked           bool
	CustodyAccountNo *string
	CardNumber       *string
}

// From is the user of a users row, its personal data opened (the row holds
// it sealed: pii). An error is a value no configured key opens.
func From(u dbq.User) (User, error) {
	out := User{
		ID: u.ID, Role: u.Role, Email: u.Email, Name: u.Name,
		RiskLevel: u.RiskLevel, Locked: u.Locked, CustodyAccountNo: u.CustodyAccountNo,
	}
	var err1, err2, err3 error
	out.IDNumber, err1 = pii.Open(u.IDNumber)
	out.Phone, err2 = pii.Open(u.Phone)
	out.CardNumber, err3 = pii.OpenPtr(u.CardNumber)
	if err := errors.Join(err1, err2, err3); err != nil {
		return User{}, fmt.Errorf("user %d: %w", u.ID, err)
	}
	return out, nil
}

// Service is what the platform does to its users.
type Service interface {
	// Lock locks a user (locked) or lifts the lock, for the reason ops give
	// (note): a locked user cannot apply for a loan, bid or withdraw
	// (account_locked). The change and its audit entry by ops user opsID
	// commit together. Errors: not_found (no such user).
	Lock(ctx context.Context, opsID, id int64, locked bool, note string) (User, error)
	// Blacklist puts an ID number on the blacklist for the reason ops give:
	// screening rejects every later application under it (docs/rules.md
	// "Screening"). The audit log names the number masked; the blacklist row
	// keeps it whole, with who added it. Errors: conflict (listed already).
	Blacklist(ctx context.Context, opsID int64, idNumber, note string) (Blacklisted, error)
	// AssessRisk records the investor's risk level (风险测评) from their ten
	// answers; bids are checked against it (docs/rules.md "Who may bid").
	// Answering again replaces the level. Errors: validation_failed
	// (answers).
	AssessRisk(ctx context.Context, userID int64, answers []int) (money.RiskLevel, error)
}

type service struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	log  *slog.Logger
}

// New is the users service on pool.
func New(pool *pgxpool.Pool, log *slog.Logger) Service {
	return &service{pool: pool, q: db.Queries(pool), log: log}
}
