package accounts

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/pii"
)

// ChangeCard binds a new card to the user's custody account (换卡, docs/rules.md
// "Recharge"): only while the account holds nothing, available and frozen,
// the user holds no claim still owed (an investor's or a compensator's, or a
// loss not recovered) and owes nothing (no loan being repaid, none written off
// with a loss unrecovered). The platform checks that under the user's lock,
// so no bid or withdrawal slips in between; the bank checks the balance
// again and does the change. Errors: validation_failed (the card's check
// digit), no_custody_account, card_change_refused, four_factor_mismatch (the
// card is not the user's), bank_unavailable (unanswered: send it again).
//
// The n-th attempt goes under request number user-N-change-card-n; an
// attempt the bank did not answer is sent again under its own number.
func (s *Service) ChangeCard(ctx context.Context, userID int64, card string) error {
	if !kyc.ValidCard(card) {
		return errs.Invalid("card_number", "fails its check digit")
	}
	u, err := s.q.UserGet(ctx, userID)
	if err != nil {
		return err
	}
	if u.CustodyAccountNo == nil {
		return errs.New(errs.NoCustodyAccount, "open a custody account first")
	}
	var attempt int32
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := q.UserLockForMoney(ctx, int32(userID)); err != nil {
			return err
		}
		if err := refuseCardChange(ctx, q, tx, userID); err != nil {
			return err
		}
		last, err := q.CardChangeLatest(ctx, userID)
		var lastCard string
		if err == nil {
			if lastCard, err = pii.Open(last.CardNumber); err != nil {
				return err
			}
		}
		switch {
		case err == nil && last.Status == "processing" && lastCard == card:
			attempt = last.Attempt // unanswered before: the same number again
			return nil
		case err == nil && last.Status == "processing":
			return errs.New(errs.Conflict, "a change to another card is still waiting for the bank")
		case err == nil:
			attempt = last.Attempt + 1
		case errors.Is(err, db.ErrNotFound):
			attempt = 1
		default:
			return err
		}
		return q.CardChangeInsert(ctx, dbq.CardChangeInsertParams{UserID: userID, Attempt: attempt, CardNumber: pii.Seal(card)})
	})
	if err != nil {
		return err
	}
	res, err := s.bank.ChangeCard(ctx, bank.ChangeCardRequest{RequestNo: bank.ChangeCard(userID, int(attempt)), AccountNo: *u.CustodyAccountNo, CardNumber: card})
	var be *bank.Error
	switch {
	case errors.As(err, &be) && !be.Retryable:
		if ferr := s.q.CardChangeFinish(ctx, dbq.CardChangeFinishParams{UserID: userID, Attempt: attempt, Status: "failed"}); ferr != nil {
			return ferr
		}
		if be.Code == bank.CodeBalanceNotZero {
			return errs.New(errs.CardChangeRefused, "the bank holds money on the account or a withdrawal is on its way")
		}
		return bankRefusal(err)
	case err != nil || res.Status != bank.StatusSucceeded:
		return errs.New(errs.BankUnavailable, "the bank did not answer; send the same card again")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := q.UserSetCard(ctx, dbq.UserSetCardParams{ID: userID, CardNumber: pii.SealPtr(&card)}); err != nil {
			return err
		}
		return q.CardChangeFinish(ctx, dbq.CardChangeFinishParams{UserID: userID, Attempt: attempt, Status: "succeeded"})
	})
}

// refuseCardChange applies the rule's platform side.
func refuseCardChange(ctx context.Context, q *dbq.Queries, tx pgx.Tx, userID int64) error {
	sum, err := ledger.AccountSummary(ctx, tx, userID)
	if err != nil {
		return err
	}
	if !sum.Available.IsZero() || !sum.Frozen.IsZero() {
		return errs.New(errs.CardChangeRefused, "available %s and frozen %s: both must be 0", sum.Available.StringFixed(2), sum.Frozen.StringFixed(2))
	}
	if holds, err := q.ClaimsHeldOpen(ctx, userID); err != nil {
		return err
	} else if holds {
		return errs.New(errs.CardChangeRefused, "the user holds a claim still owed")
	}
	if owes, err := q.LoanOwedByBorrower(ctx, userID); err != nil {
		return err
	} else if owes {
		return errs.New(errs.CardChangeRefused, "the user owes on a loan")
	}
	return nil
}
