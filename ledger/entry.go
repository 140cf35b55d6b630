package ledger

import (
	"time"

	"github.com/shopspring/decimal"
)

// Entry types: what the user's fund log (资金日志) calls the movement. The
// builders below use the first five; LedgerTotals in db/queries/ledger.sql
// spells the first three out too, for the conservation identity.
const (
	TypeRecharge           = "recharge"
	TypeWithdrawal         = "withdrawal"
	TypeWithdrawalReversal = "withdrawal_reversal" // 冲正
	TypeFreeze             = "freeze"              // 投标冻结
	TypeUnfreeze           = "unfreeze"            // 流标, review rejected, cancelled
	TypeDisbursement       = "disbursement"        // 放款
	TypeRepayment          = "repayment"
	TypeCompensation       = "compensation" // 担保代偿, 风险准备金垫付
	TypeBonus              = "bonus"        // cash coupons, interest boosts
	TypeRecovery           = "recovery"     // money recovered after a write-off (核销)
	// TypeBonusTopUp is ops filling the bonus account from the platform's
	// own card: money into custody, as a recharge is (CheckConservation).
	TypeBonusTopUp = "bonus_top_up"
	// TypeTransfer is a claim's sale (债权转让): the buyer pays the price,
	// the seller receives price − fee and the fee account the fee, so a
	// transfer entry's volume is its buyer's debit and its fee the fee
	// account's credit (docs/transfer.md "Books").
	TypeTransfer = "transfer"
)

// Posting moves Amount into Account (positive: credit, the balance grows) or
// out of it (negative: debit). Counterpart is a label for the fund log: who
// the money came from or went to. Kind tells the fund log what the money is
// when one entry moves several things for one user (the Kind* constants); ""
// is the entry's type.
type Posting struct {
	Account     string
	Amount      decimal.Decimal
	Counterpart string
	Kind        string `json:",omitempty"`
}

// Posting kinds: each is a row of its own in the user's fund log (资金日志,
// docs/money.md "Fund log"), so a person can tell the movements apart.
const (
	KindPrincipal   = "principal"      // a repayment's principal, paid or received
	KindInterest    = "interest"       // a repayment's interest
	KindPenalty     = "penalty"        // a repayment's penalty interest
	KindServiceFee  = "service_fee"    // the borrower's service fee at disbursement
	KindRiskReserve = "risk_reserve"   // the borrower's risk-reserve contribution at disbursement
	KindFee         = "withdrawal_fee" // a withdrawal's fee, or its return on a reversal
)

// Entry is one movement the bank made, mirrored. (RequestNo, Leg) identifies it:
// a bank request that is several movements (a batch) uses one leg per entry.
type Entry struct {
	RequestNo string
	Leg       int
	Type      string
	Ref       string // the business object: a bid, a loan, the withdrawal reversed
	// LoanID is the loan the movement belongs to, for the event feed; zero
	// when none, or when Ref names it (loan:<id>).
	LoanID       int64 `json:",omitempty"`
	BusinessDate time.Time
	Postings     []Posting
}

// Recharge mirrors money arriving from the user's bound card.
func Recharge(reqNo string, userID int64, amount decimal.Decimal, on time.Time) Entry {
	return pair(reqNo, 0, TypeRecharge, ExternalCards, UserAvailable(userID), amount, "", on)
}

// Withdrawal mirrors the bank paying amount to the bound card and moving fee to
// the fee account, both out of the available balance (docs/rules.md "Withdrawal
// fee": the fee comes on top of the amount). A zero fee (the month's free
// withdrawal) adds no postings.
func Withdrawal(reqNo string, userID int64, amount, fee decimal.Decimal, on time.Time) Entry {
	user := UserAvailable(userID)
	e := Entry{RequestNo: reqNo, Type: TypeWithdrawal, BusinessDate: on, Postings: []Posting{
		{Account: user, Amount: amount.Neg(), Counterpart: ExternalCards},
		{Account: ExternalCards, Amount: amount, Counterpart: user},
	}}
	if !fee.IsZero() {
		e.Postings = append(e.Postings,
			Posting{Account: user, Amount: fee.Neg(), Counterpart: PlatformFee, Kind: KindFee},
			Posting{Account: PlatformFee, Amount: fee, Counterpart: user, Kind: KindFee})
	}
	return e
}

// BonusTopUp mirrors the platform's own card filling the bonus account
// (红包账户). The card is outside custody, as users' cards are.
func BonusTopUp(reqNo string, amount decimal.Decimal, ref string, on time.Time) Entry {
	return pair(reqNo, 0, TypeBonusTopUp, ExternalCards, PlatformBonus, amount, ref, on)
}

// WithdrawalReversal mirrors a 冲正: the bank returns a paid-out withdrawal's
// amount from the card and its fee from the fee account to the available
// balance (docs/rules.md "Withdrawal route": a reversed withdrawal costs
// nothing). ref names the withdrawal. A zero fee (the month's free
// withdrawal) adds no postings.
func WithdrawalReversal(reqNo string, userID int64, amount, fee decimal.Decimal, ref string, on time.Time) Entry {
	e := pair(reqNo, 0, TypeWithdrawalReversal, ExternalCards, UserAvailable(userID), amount, ref, on)
	if !fee.IsZero() {
		user := UserAvailable(userID)
		e.Postings = append(e.Postings,
			Posting{Account: PlatformFee, Amount: fee.Neg(), Counterpart: user, Kind: KindFee},
			Posting{Account: user, Amount: fee, Counterpart: PlatformFee, Kind: KindFee})
	}
	return e
}

// Freeze mirrors 投标冻结: a bid's amount moves from available to frozen.
// Its postings carry their kind, so that the fund log's receivable snapshot
// (migration 0039) is not even queued for a bid's freeze.
func Freeze(reqNo string, userID int64, amount decimal.Decimal, ref string, on time.Time) Entry {
	return kinded(pair(reqNo, 0, TypeFreeze, UserAvailable(userID), UserFrozen(userID), amount, ref, on))
}

// Unfreeze mirrors the release of a freeze back to available.
func Unfreeze(reqNo string, userID int64, amount decimal.Decimal, ref string, on time.Time) Entry {
	return kinded(pair(reqNo, 0, TypeUnfreeze, UserFrozen(userID), UserAvailable(userID), amount, ref, on))
}

// kinded names the entry's type as its postings' kind, which the fund log
// reads as it reads "" (the entry's type).
func kinded(e Entry) Entry {
	for i := range e.Postings {
		e.Postings[i].Kind = e.Type
	}
	return e
}

// Transfer mirrors amount moving from one account to another. A spent freeze
// (disbursement) transfers from UserFrozen.
func Transfer(reqNo string, leg int, typ, from, to string, amount decimal.Decimal, ref string, on time.Time) Entry {
	return pair(reqNo, leg, typ, from, to, amount, ref, on)
}

func pair(reqNo string, leg int, typ, from, to string, amount decimal.Decimal, ref string, on time.Time) Entry {
	return Entry{RequestNo: reqNo, Leg: leg, Type: typ, Ref: ref, BusinessDate: on, Postings: []Posting{
		{Account: from, Amount: amount.Neg(), Counterpart: to},
		{Account: to, Amount: amount, Counterpart: from},
	}}
}
