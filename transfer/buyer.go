package transfer

import (
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/money"
)

// Who may buy (docs/rules.md "Debt transfer"): the bid checks that apply —
// a custody account, a risk assessment whose level covers the loan's grade,
// not the loan's borrower or guarantor, not locked — and not the seller
// (own_claim); the available balance must cover the price, judged when the
// purchase is made (insufficient_balance).

// Buyer is what the checks read of a would-be buyer.
type Buyer struct {
	ID             int64
	CustodyAccount bool
	RiskLevel      string // "" until the assessment is taken
	Locked         bool
}

// Parties is who a listing's loan belongs to, and its grade.
type Parties struct {
	SellerID, BorrowerID, GuarantorID int64 // GuarantorID 0: none
	Grade                             string
}

// CheckBuyer applies the checks in a fixed order, the first failing one
// answering: own_claim, own_loan, no_custody_account, no_risk_assessment,
// account_locked, suitability_mismatch.
func CheckBuyer(b Buyer, p Parties) error {
	switch {
	case b.ID == p.SellerID:
		return errs.New(errs.OwnClaim, "the listing is the buyer's own")
	case b.ID == p.BorrowerID || (p.GuarantorID != 0 && b.ID == p.GuarantorID):
		return errs.New(errs.OwnLoan, "a borrower or guarantor cannot buy a claim on the loan")
	case !b.CustodyAccount:
		return errs.New(errs.NoCustodyAccount, "open a custody account first")
	case b.RiskLevel == "":
		return errs.New(errs.NoRiskAssessment, "take the risk assessment first")
	case b.Locked:
		return errs.New(errs.AccountLocked, "the account is locked")
	case !money.Suitable(money.RiskLevel(b.RiskLevel), money.Grade(p.Grade)):
		return errs.New(errs.SuitabilityMismatch, "risk level %s does not cover grade %s", b.RiskLevel, p.Grade)
	}
	return nil
}
