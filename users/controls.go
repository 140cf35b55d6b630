package users

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/pii"
)

// The risk controls ops use (docs/security.md "Risk controls").

func (s *service) Lock(ctx context.Context, opsID, id int64, locked bool, note string) (User, error) {
	action := audit.UserUnlock
	if locked {
		action = audit.UserLock
	}
	var out User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		row, err := q.UserSetLocked(ctx, dbq.UserSetLockedParams{ID: id, Locked: locked})
		if err != nil {
			return err
		}
		if out, err = From(row); err != nil {
			return err
		}
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: action, Target: audit.User(id), Note: strings.TrimSpace(note)})
		return err
	})
	if errors.Is(err, db.ErrNotFound) {
		return out, errs.New(errs.NotFound, "no such user")
	}
	return out, err
}

// Blacklisted is an ID number on the blacklist.
type Blacklisted struct {
	IDNumber string
	Note     string
	AddedAt  time.Time
}

func (s *service) Blacklist(ctx context.Context, opsID int64, idNumber, note string) (Blacklisted, error) {
	// The check character may be typed x or X; one spelling keeps screening's lookups exact.
	idNumber, note = strings.ToUpper(idNumber), strings.TrimSpace(note)
	var row dbq.Blacklist
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if row, err = q.BlacklistInsert(ctx, dbq.BlacklistInsertParams{
			IDNumber: pii.Seal(idNumber), IDNumberHash: pii.Hash(idNumber), Reason: note, AddedBy: &opsID}); err != nil {
			return err
		}
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.BlacklistAdd, Target: audit.IDNumber(kyc.MaskIDNumber(idNumber)), Note: note})
		return err
	})
	if errors.Is(err, db.ErrNotFound) {
		return Blacklisted{}, errs.New(errs.Conflict, "already on the blacklist")
	}
	return Blacklisted{IDNumber: idNumber, Note: row.Reason, AddedAt: row.AddedAt}, err
}

func (s *service) AssessRisk(ctx context.Context, userID int64, answers []int) (money.RiskLevel, error) {
	level, err := money.RiskLevelFromAnswers(answers)
	if errors.Is(err, money.ErrAssessment) {
		return "", errs.Invalid("answers", "%s", err.Error())
	}
	if err != nil {
		return "", err
	}
	l := string(level)
	return level, s.q.UserSetRiskLevel(ctx, dbq.UserSetRiskLevelParams{ID: userID, RiskLevel: &l})
}
