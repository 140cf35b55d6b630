// Package ledger is the platform's double-entry book of the money the custody
// bank holds (docs/rules.md "The platform's own books"). The bank's record is the
// truth; every movement the bank confirms is mirrored here as one journal entry
// whose postings sum to zero, keyed by the bank request number (流水号) so that
// mirroring the same movement twice is impossible.
//
// Accounts mirror the bank's: each user sub-account is two ledger accounts
// (available and frozen), each platform account one, and external:cards stands
// for the world outside custody — recharges debit it, withdrawals credit it, so
// it is the only account whose balance goes negative. A balance is the money the
// account holds; a positive posting amount credits (adds to) it.
//
// Invariants, enforced by the schema (db/migrations/0002_ledger.sql) and
// re-checked by CheckConservation:
//   - the postings of an entry sum to zero;
//   - an account's balance is the running sum of its postings, and each
//     posting's balance_after is that running sum;
//   - no balance other than external:cards is ever negative, not even between
//     two postings of one entry;
//   - postings and entries are never changed or removed;
//   - custody total (every account but external:cards) = −external:cards =
//     recharged − withdrawn + reversed withdrawals. Withdrawal fees stay in
//     custody, in platform:fee, so they are not part of "withdrawn".
package ledger

import (
	"strconv"
	"strings"
)

// Account codes of the platform's own custody accounts and of the outside world.
const (
	PlatformFee         = "platform:fee"          // bank.AccountFee, 手续费账户
	PlatformBonus       = "platform:bonus"        // bank.AccountBonus, 红包账户
	PlatformRiskReserve = "platform:risk_reserve" // bank.AccountRiskReserve, 风险准备金
	PlatformSummary     = "platform:summary"      // bank.AccountSummary, 汇总账户
	ExternalCards       = "external:cards"        // users' bound cards: outside custody
)

// UserAvailable is the code of the user's available balance.
func UserAvailable(userID int64) string {
	return "user:" + strconv.FormatInt(userID, 10) + ":available"
}

// UserFrozen is the code of the user's frozen balance (bids awaiting disbursement).
func UserFrozen(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) + ":frozen" }

// parseAccount reports whether code names an account and, for a user account,
// whose. The user id must be written canonically: "user:07:available" would
// otherwise open a second account for user 7.
func parseAccount(code string) (userID int64, ok bool) {
	switch code {
	case PlatformFee, PlatformBonus, PlatformRiskReserve, PlatformSummary, ExternalCards:
		return 0, true
	}
	rest, found := strings.CutPrefix(code, "user:")
	if !found {
		return 0, false
	}
	digits, kind, found := strings.Cut(rest, ":")
	if !found || (kind != "available" && kind != "frozen") {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != digits {
		return 0, false
	}
	return id, true
}
