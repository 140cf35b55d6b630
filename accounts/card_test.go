package accounts_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

func newCard(n int) string {
	c := fmt.Sprintf("62148399%09d", n)
	return c + string(kyc.LuhnCheckDigit(c))
}

// A card is changed (换卡) only with nothing held, owed or on its way
// (docs/rules.md "Recharge"): refused while money is held, while a claim is still
// owed to the user, while the user owes on a loan; done at the bank once all
// is zero.
func TestCardChangeRule(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	u := e.User(lending.RoleInvestor, "100.00")
	err := e.Accounts.ChangeCard(e.Ctx, u.ID, newCard(1))
	assert.Equal(t, errs.CardChangeRefused, errs.Code(err), "100.00 available: %v", err)

	w, err := e.Accounts.Withdraw(e.Ctx, u.ID, decimal.RequireFromString("100.00"), e.Today, e.Today)
	require.NoError(t, err)
	// While the withdrawal is on its way to the old card the bank refuses.
	testwait.Every(20*time.Millisecond).For(t, "the withdrawal to settle", func() bool {
		if w.Status != "processing" {
			return true
		}
		_, err := e.Accounts.SettlePending(e.Ctx, 0)
		require.NoError(t, err)
		w, err = e.Accounts.Withdrawal(e.Ctx, u.ID, w.ID)
		require.NoError(t, err)
		return false
	})
	require.Equal(t, "succeeded", w.Status)
	require.NoError(t, e.Accounts.ChangeCard(e.Ctx, u.ID, newCard(1)))
	got, err := e.Q.UserGet(e.Ctx, u.ID)
	require.NoError(t, err)
	card, err := pii.OpenPtr(got.CardNumber)
	require.NoError(t, err)
	assert.Equal(t, newCard(1), *card, "kept sealed")

	assert.Equal(t, errs.ValidationFailed, errs.Code(e.Accounts.ChangeCard(e.Ctx, u.ID, "6214839900000000000")), "check digit")

	// A borrower with a loan being repaid owes: refused though the balance is 0.
	b := e.User(lending.RoleBorrower, "0.00")
	loan := e.ListedLoan(b, "2000.00", "C", "0.11", 3, false)
	_, err = e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'repaying' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, errs.CardChangeRefused, errs.Code(e.Accounts.ChangeCard(e.Ctx, b.ID, newCard(2))))

	// An investor holding a loss not yet recovered holds a claim: refused.
	_, err = e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'written_off' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	inv := e.User(lending.RoleInvestor, "0.00")
	_, err = e.Pool.Exec(e.Ctx, `INSERT INTO write_off_losses (loan_id, holder_key, holder, user_id, amount) VALUES ($1, 'x', 'investor', $2, 10.00)`, loan.ID, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, errs.CardChangeRefused, errs.Code(e.Accounts.ChangeCard(e.Ctx, inv.ID, newCard(3))))
	assert.Equal(t, errs.CardChangeRefused, errs.Code(e.Accounts.ChangeCard(e.Ctx, b.ID, newCard(2))), "the borrower of a loss unrecovered owes")
}
