package transfer

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

func TestTheBlackoutBeforeADueDate(t *testing.T) {
	due := day("2026-04-02")
	require.Equal(t, day("2026-03-28"), LapseOn(due), "the 5th day before the due date")
	require.True(t, OpenOn(due, day("2026-03-27")), "6 days before: open")
	require.False(t, OpenOn(due, day("2026-03-28")), "5 days before: the blackout")
	require.False(t, OpenOn(due, due))
}

func TestAnOfferIsJudgedByTheRules(t *testing.T) {
	fresh := func() Offer {
		return Offer{LoanStatus: lending.StatusRepaying, Claim: ClaimOf(claimA(0), day("2026-03-02")), Held: true,
			Discount: d("0.01"), Day: day("2026-03-27")}
	}
	require.NoError(t, fresh().Check())
	for name, tc := range map[string]struct {
		change func(*Offer)
		code   string
		reason string
	}{
		"blackout":       {func(o *Offer) { o.Day = day("2026-03-28") }, errs.TransferNotAllowed, ReasonBlackout},
		"overdue":        {func(o *Offer) { o.LoanStatus = lending.StatusOverdue }, errs.TransferNotAllowed, ReasonOverdue},
		"repaid":         {func(o *Offer) { o.LoanStatus = lending.StatusRepaid }, errs.TransferNotAllowed, ReasonNotRepaying},
		"written off":    {func(o *Offer) { o.LoanStatus = lending.StatusWrittenOff }, errs.TransferNotAllowed, ReasonNotRepaying},
		"sold":           {func(o *Offer) { o.Held = false }, errs.TransferNotAllowed, ReasonNotHeld},
		"listed":         {func(o *Offer) { o.Listed = true }, errs.TransferNotAllowed, ReasonListed},
		"touched":        {func(o *Offer) { o.Claim.Untouched = false }, errs.TransferNotAllowed, ReasonTouched},
		"nothing left":   {func(o *Offer) { o.Claim = ClaimOf(claimA(6), day("2026-03-02")) }, errs.TransferNotAllowed, ReasonNothingLeft},
		"discount > 5 %": {func(o *Offer) { o.Discount = d("0.0501") }, errs.ValidationFailed, ""},
		"discount < 0":   {func(o *Offer) { o.Discount = d("-0.01") }, errs.ValidationFailed, ""},
		"5 places":       {func(o *Offer) { o.Discount = d("0.01005") }, errs.ValidationFailed, ""},
	} {
		o := fresh()
		tc.change(&o)
		err := o.Check()
		require.Equal(t, tc.code, errs.Code(err), name)
		if tc.reason != "" {
			var e *errs.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.reason, e.Detail, name)
			require.True(t, IsReason(e.Detail))
		}
	}
	o := fresh()
	o.Discount = d("0.05")
	require.NoError(t, o.Check(), "5 % is allowed")
	o.Discount = d("0")
	require.NoError(t, o.Check())
}

func TestWhoMayBuy(t *testing.T) {
	p := Parties{SellerID: 1, BorrowerID: 2, GuarantorID: 3, Grade: "C"}
	ok := Buyer{ID: 9, CustodyAccount: true, RiskLevel: "C3"}
	require.NoError(t, CheckBuyer(ok, p))
	for name, tc := range map[string]struct {
		b    Buyer
		code string
	}{
		"seller":        {Buyer{ID: 1, CustodyAccount: true, RiskLevel: "C5"}, errs.OwnClaim},
		"borrower":      {Buyer{ID: 2, CustodyAccount: true, RiskLevel: "C5"}, errs.OwnLoan},
		"guarantor":     {Buyer{ID: 3, CustodyAccount: true, RiskLevel: "C5"}, errs.OwnLoan},
		"no account":    {Buyer{ID: 9, RiskLevel: "C5"}, errs.NoCustodyAccount},
		"no assessment": {Buyer{ID: 9, CustodyAccount: true}, errs.NoRiskAssessment},
		"locked":        {Buyer{ID: 9, CustodyAccount: true, RiskLevel: "C5", Locked: true}, errs.AccountLocked},
		"unsuitable":    {Buyer{ID: 9, CustodyAccount: true, RiskLevel: "C2"}, errs.SuitabilityMismatch},
	} {
		require.Equal(t, tc.code, errs.Code(CheckBuyer(tc.b, p)), name)
	}
	require.NoError(t, CheckBuyer(ok, Parties{SellerID: 1, BorrowerID: 2, Grade: "A"}), "no guarantor: 0 is nobody")
}
