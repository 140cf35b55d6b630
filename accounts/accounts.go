// Package accounts is what a user does with their custody sub-account:
// open it at the bank (four-factor check), recharge from the bound card, and
// withdraw. Every movement is asked of the bank under a request number derived
// from the platform's own row id, and mirrored in the ledger.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/users"
)

// Service runs account operations.
type Service struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
	bank bank.Client
	log  *slog.Logger
}

// New builds the service.
func New(pool *pgxpool.Pool, b bank.Client, log *slog.Logger) *Service {
	return &Service{pool: pool, q: db.Queries(pool), bank: b, log: log}
}

// OpenCustody opens the user's custody sub-account with the bank's
// four-factor check (name, ID number, phone, card). The first to verify an
// ID number wins it (docs/security.md "Identities"): refused before the bank
// is asked; a race between two openings is settled by the database's unique
// index on verified ID numbers. Errors: identity_taken, validation_failed
// (card fails Luhn), conflict (already open), four_factor_mismatch,
// bank_unavailable.
func (s *Service) OpenCustody(ctx context.Context, userID int64, card string) (string, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	if taken, err := s.q.UserVerifiedIDNumberTaken(ctx, dbq.UserVerifiedIDNumberTakenParams{IDNumberHash: pii.Hash(u.IDNumber), ExceptID: u.ID}); err != nil {
		return "", err
	} else if taken {
		return "", errs.New(errs.IdentityTaken, "ID number verified by another user")
	}
	if !kyc.ValidCard(card) {
		return "", errs.Invalid("card_number", "fails its check digit")
	}
	if u.CustodyAccountNo != nil {
		return "", errs.New(errs.Conflict, "a custody account is already open")
	}
	kind := bank.KindInvestor
	if u.Role == lending.RoleBorrower {
		kind = bank.KindBorrower
	} else if u.Role == lending.RoleGuarantor {
		kind = bank.KindGuarantor
	}
	res, err := s.bank.OpenAccount(ctx, bank.OpenAccountRequest{
		RequestNo: bank.OpenAccount(userID), Kind: kind, Name: u.Name, IDNumber: u.IDNumber, Phone: u.Phone, CardNumber: card,
	})
	if err != nil {
		return "", bankRefusal(err)
	}
	if _, err := s.q.UserSetCustodyAccount(ctx, dbq.UserSetCustodyAccountParams{ID: userID, CustodyAccountNo: &res.AccountNo,
		CardNumber: pii.SealPtr(&card)}); err != nil {
		switch {
		case errors.Is(err, db.ErrNotFound):
			return "", errs.New(errs.Conflict, "a custody account is already open")
		case db.ConstraintViolated(err, verifiedIDNumberIndex):
			return "", errs.New(errs.IdentityTaken, "ID number verified by another user at the same moment")
		}
		return "", err
	}
	return res.AccountNo, nil
}

// user is the user with their personal data opened: the bank is told it.
func (s *Service) user(ctx context.Context, id int64) (users.User, error) {
	row, err := s.q.UserGet(ctx, id)
	if err != nil {
		return users.User{}, err
	}
	return users.From(row)
}

// verifiedIDNumberIndex is the unique index of verified ID numbers (0007_security.sql).
const verifiedIDNumberIndex = "users_verified_id_number"

// Summary is the user's balances: available, frozen, what is still to come
// of their claims, and all of it together.
func (s *Service) Summary(ctx context.Context, userID int64) (ledger.Summary, error) {
	return ledger.AccountSummary(ctx, s.pool, userID)
}

// FundLog is the user's fund log (资金日志), newest first, after the entry
// afterID (0: from the newest), at most limit entries; next is the cursor of
// the page after, 0 on the last.
func (s *Service) FundLog(ctx context.Context, userID, afterID int64, limit int) ([]ledger.FundLogItem, int64, error) {
	return ledger.FundLog(ctx, s.pool, userID, afterID, limit)
}

// businessDate is today, or the platform's business date when today is zero
// (the API's requests, which leave the date to the platform).
func (s *Service) businessDate(ctx context.Context, today time.Time) (time.Time, error) {
	if !today.IsZero() {
		return today, nil
	}
	c, err := s.q.ClockGet(ctx)
	return c.Today, err
}

// Recharge moves money from the user's bound card into their available
// balance (同卡进出: the bank accepts only the bound card).
func (s *Service) Recharge(ctx context.Context, userID int64, amount decimal.Decimal, today time.Time) (Recharge, error) {
	return s.RechargeOnce(ctx, "", userID, amount, today)
}

// RechargeOnce is Recharge under the caller's Idempotency-Key
// (docs/idempotency.md): the recharge row carries the key, written before the
// bank is asked, so the same key never recharges twice; sent again, it
// answers that recharge as it is now. The key with another amount is
// idempotency_key_reused. An empty key is Recharge; a zero today is the
// platform's business date.
func (s *Service) RechargeOnce(ctx context.Context, key string, userID int64, amount decimal.Decimal, today time.Time) (Recharge, error) {
	today, err := s.businessDate(ctx, today)
	if err != nil {
		return Recharge{}, err
	}
	rc, err := s.recharge(ctx, key, userID, amount, today)
	return rechargeFrom(rc), err
}

func (s *Service) recharge(ctx context.Context, key string, userID int64, amount decimal.Decimal, today time.Time) (dbq.Recharge, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return dbq.Recharge{}, err
	}
	if u.CustodyAccountNo == nil || u.CardNumber == nil {
		return dbq.Recharge{}, errs.New(errs.NoCustodyAccount, "open a custody account first")
	}
	var rc dbq.Recharge
	var repeat bool
	keyp := idempotency.Key(key)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if keyp != nil {
			// The user's lock orders two requests under one key: the second finds the first's row.
			if err := q.UserLockForMoney(ctx, int32(userID)); err != nil {
				return err
			}
		}
		var err error
		rc, repeat, err = idempotency.Made(keyp, func(key *string) (dbq.Recharge, error) {
			return q.RechargeGetByKey(ctx, dbq.RechargeGetByKeyParams{UserID: userID, IdempotencyKey: key})
		}, func(rc dbq.Recharge) bool { return rc.Amount.Equal(amount) }, describeRecharge)
		if repeat || err != nil {
			return err
		}
		rc, err = q.RechargeInsert(ctx, dbq.RechargeInsertParams{UserID: userID, Amount: amount, BusinessDate: today, IdempotencyKey: keyp})
		return err
	})
	if err != nil || repeat {
		return rc, err
	}
	// Once the row is written the bank is asked and its answer recorded even
	// if the client hangs up.
	ctx = context.WithoutCancel(ctx)
	reqNo := bank.Recharge(rc.ID)
	res, err := s.bank.Recharge(ctx, bank.RechargeRequest{RequestNo: reqNo, AccountNo: *u.CustodyAccountNo, CardNumber: *u.CardNumber, Amount: amount})
	if err != nil {
		var be *bank.Error
		if errors.As(err, &be) && !be.Retryable {
			rc, _ = s.q.RechargeSetStatus(ctx, dbq.RechargeSetStatusParams{ID: rc.ID, Status: "failed"})
			return rc, bankRefusal(err)
		}
		// Unknown outcome: the row stays processing under its request number,
		// and SettleRecharge finishes it from the bank's answer.
		s.log.Warn("recharge unanswered; left processing", "recharge", rc.ID, "error", err)
		return rc, nil
	}
	return s.settleRecharge(ctx, rc, res, today)
}

// describeRecharge names a recharge for a refusal of its key.
func describeRecharge(rc dbq.Recharge) string {
	return fmt.Sprintf("recharge %d, of %s", rc.ID, rc.Amount.StringFixed(2))
}

// settleRecharge records the bank's final answer for a recharge.
func (s *Service) settleRecharge(ctx context.Context, rc dbq.Recharge, res bank.Result, today time.Time) (dbq.Recharge, error) {
	if d, err := time.Parse(time.DateOnly, res.BusinessDate); err == nil {
		today = d // the day the bank did it: what its file says
	}
	switch res.Status {
	case bank.StatusSucceeded:
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := ledger.Post(ctx, tx, ledger.Recharge(res.RequestNo, rc.UserID, rc.Amount, today)); err != nil {
				return err
			}
			q := db.Queries(tx)
			var err error
			rc, err = q.RechargeSetStatus(ctx, dbq.RechargeSetStatusParams{ID: rc.ID, Status: "succeeded"})
			if errors.Is(err, db.ErrNotFound) {
				rc, err = q.RechargeGet(ctx, rc.ID)
			}
			if err != nil {
				return err
			}
			return contact.Write(ctx, q, contact.Notice{UserID: rc.UserID, Kind: lending.NoticeRechargeSucceeded, Amount: &rc.Amount,
				On: today, Dedupe: res.RequestNo + "-succeeded",
				Message: "Your recharge of " + rc.Amount.StringFixed(2) + " has arrived in your available balance."})
		})
		return rc, err
	case bank.StatusFailed:
		out, err := s.q.RechargeSetStatus(ctx, dbq.RechargeSetStatusParams{ID: rc.ID, Status: "failed"})
		if errors.Is(err, db.ErrNotFound) {
			return rc, nil
		}
		return out, err
	}
	return rc, nil
}

// bankRefusal maps a bank error to the API's vocabulary.
func bankRefusal(err error) error {
	var be *bank.Error
	if !errors.As(err, &be) || be.Retryable {
		return errs.New(errs.BankUnavailable, "the bank did not answer; try again with the same Idempotency-Key")
	}
	switch be.Code {
	case bank.CodeFourFactorMismatch:
		return errs.New(errs.FourFactorMismatch, "the bank's four-factor check failed: %s", be.Message)
	case bank.CodeInsufficientBalance:
		return errs.New(errs.InsufficientBalance, "%s", be.Message)
	case bank.CodeCardMismatch:
		return errs.Invalid("card_number", "money comes in and goes out only through the bound card")
	}
	return errs.New(errs.Conflict, "the bank refused: %s", be.Message)
}
