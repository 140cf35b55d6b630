package bank

import (
	"fmt"
	"strconv"
	"strings"
)

// RequestNo builds a request number (流水号) from the business identity of a
// movement: RequestNo("loan", 42, "installment", 3, "repay") is
// "loan-42-installment-3-repay". The number must come out the same on every
// retry of the same business step, so it is built only from identity — never
// from the clock or a random source (docs/idempotency.md "The effect carries the key":
// keys come from IDs and sequence numbers). A new attempt of a step that the bank
// refused (a failed batch retried by ops) is a new identity and carries its
// attempt number.
//
// Parts are strings and integers; anything else is a programming error and
// panics, because a float or a time would make the number depend on
// formatting rather than identity.
func RequestNo(parts ...any) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int32:
			b.WriteString(strconv.FormatInt(int64(v), 10))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint32:
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		default:
			panic(fmt.Sprintf("bank.RequestNo: part %d is %T; use strings and integers", i, p))
		}
	}
	return b.String()
}

// OpenAccount is the number of a user's custody account opening: one per
// user. A four-factor refusal is not recorded by the bank, so the user's
// corrected details go under the same number.
func OpenAccount(userID int64) string { return RequestNo("user", userID, "open-account") }

// ChangeCard is the number of a user's n-th card change attempt. A change the
// bank refused for the account's state (money still held) is final for its
// number, so the next attempt takes the next n.
func ChangeCard(userID int64, n int) string { return RequestNo("user", userID, "change-card", n) }

// Recharge is the number of the recharge row id.
func Recharge(id int64) string { return RequestNo("recharge", id) }

// Withdrawal is the number of the withdrawal row id.
func Withdrawal(id int64) string { return RequestNo("withdrawal", id) }

// BidFreeze is the number of a bid's freeze (投标冻结); the freeze is named by
// it, so batches and unfreezes refer to it by this number.
func BidFreeze(bidID int64) string { return RequestNo("bid", bidID, "freeze") }

// BidUnfreeze is the number of releasing a bid's freeze (流标, review
// rejected, cancelled): a bid is unfrozen at most once.
func BidUnfreeze(bidID int64) string { return RequestNo("bid", bidID, "unfreeze") }

// Disbursement is the number of a loan's disbursement batch (放款); attempt
// counts the batches sent after the bank failed earlier ones.
func Disbursement(loanID int64, attempt int) string {
	return RequestNo("loan", loanID, "disburse", attempt)
}

// Repayment is the number of the repayment batch of one installment; attempt
// counts the batches sent after the bank failed or refused earlier ones.
func Repayment(loanID int64, installmentNo, attempt int) string {
	return RequestNo("loan", loanID, "installment", installmentNo, "repay", attempt)
}

// BonusTopUp is the number of the bonus account's top-up row id.
func BonusTopUp(id int64) string { return RequestNo("bonus-top-up", id) }

// BonusPayment is the number of one coupon's payment from the bonus account:
// installment 0 is a cash coupon's face at the disbursement, k an interest
// coupon's bonus of installment k; attempt counts the payments sent again
// by ops after the bank refused earlier ones (the bonus account was short).
func BonusPayment(loanID int64, installmentNo int, couponID int64, attempt int) string {
	return RequestNo("loan", loanID, "installment", installmentNo, "coupon", couponID, "bonus", attempt)
}
