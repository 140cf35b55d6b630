package events

import (
	"regexp"
	"strings"

	"github.com/lendflow/lendflow/lending"
)

// Families of event types: what the first word of a type names.
const (
	// FamilyLoan: a loan's status changed; the name is the new status
	// (loan.listed, loan.repaying…).
	FamilyLoan = "loan"
	// FamilyLedger: a movement the custody bank made, as the ledger booked
	// it; the name is the entry's type, the fund log's word (ledger.freeze,
	// ledger.repayment…). New entry types are new event types by themselves.
	FamilyLedger = "ledger"
	// FamilyTransfer: a debt-transfer listing moved (transfer.listed,
	// transfer.sold, transfer.lapsed, transfer.cancelled; docs/transfer.md).
	FamilyTransfer = "transfer"
	// FamilyCoupon: a coupon moved (coupon.granted, coupon.reserved,
	// coupon.released, coupon.used, coupon.expired) or the bank refused one
	// of its payments (coupon.payment_failed; docs/coupons.md).
	FamilyCoupon = "coupon"
)

// Families are the families a webhook may subscribe to. A capability with
// events of its own (a transfer listed, a coupon granted) adds its family
// here and to docs/events.md.
var Families = []string{FamilyLoan, FamilyLedger, FamilyTransfer, FamilyCoupon}

// Type is the event type family.name.
func Type(family, name string) string { return family + "." + name }

// LoanType is the event of a loan's move to s.
func LoanType(s lending.Status) string { return Type(FamilyLoan, string(s)) }

var wellFormed = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// WellFormed reports whether t is family.name in lower case and underscores,
// as the events table's check has it.
func WellFormed(t string) bool { return wellFormed.MatchString(t) }

// Subscribable reports whether a webhook may ask for pattern: "*" (every
// event), "family.*", or a type of a known family; a loan type must name a
// loan status, so a typo is refused rather than never matching.
func Subscribable(pattern string) bool {
	if pattern == "*" {
		return true
	}
	family, name, ok := strings.Cut(pattern, ".")
	known := false
	for _, f := range Families {
		known = known || f == family
	}
	switch {
	case !ok || !known:
		return false
	case name == "*":
		return true
	case !WellFormed(pattern):
		return false
	case family == FamilyLoan:
		return lending.Status(name).Valid()
	}
	return true
}

// Matches reports whether an event of type t is one a subscription to
// pattern asks for. The delivery fan-out does the same in SQL
// (event_type_matches), tested against this.
func Matches(pattern, t string) bool {
	if pattern == "*" || pattern == t {
		return true
	}
	family, ok := strings.CutSuffix(pattern, ".*")
	return ok && strings.HasPrefix(t, family+".")
}
