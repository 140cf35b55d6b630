// Package errs is the platform's one vocabulary of domain refusals. A refusal
// carries a stable code (docs/api.md "Errors"); the HTTP layer maps the code to a
// status and problem+json, and activities map it to a non-retryable Temporal
// application error whose type is the code.
package errs

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Codes fixed by the HTTP contract (docs/api.md "Errors"), plus the project's own.
const (
	ValidationFailed     = "validation_failed"
	Unauthenticated      = "unauthenticated"
	Forbidden            = "forbidden"
	NotFound             = "not_found"
	Conflict             = "conflict"
	IdempotencyKeyReused = "idempotency_key_reused"
	ListingNotOpen       = "listing_not_open"
	Oversubscribed       = "oversubscribed"
	BelowMinimumBid      = "below_minimum_bid"
	NotBidMultiple       = "not_bid_multiple"
	InsufficientBalance  = "insufficient_balance"
	SuitabilityMismatch  = "suitability_mismatch"
	OwnLoan              = "own_loan"
	NewbieOnly           = "newbie_only"
	AccountLocked        = "account_locked"
	NoCustodyAccount     = "no_custody_account"
	NoRiskAssessment     = "no_risk_assessment"
	InvalidState         = "invalid_state"
	RateLimited          = "rate_limited"
	// Added in the second round (docs/api.md "Errors").
	IdentityTaken     = "identity_taken"      // the ID number is verified by another user
	LoginThrottled    = "login_throttled"     // too many failed sign-ins; Retry-After says when
	CardChangeRefused = "card_change_refused" // money held, a claim held or a debt owed
	NotGuarantor      = "not_guarantor"       // the caller is not the loan's named guarantor
	// Added in the third round (docs/api.md "Errors").
	TransferNotAllowed = "transfer_not_allowed" // the claim can't be offered now; the detail says why
	TransferNotOpen    = "transfer_not_open"    // the listing is not open to buyers (sold, lapsed, cancelled, being bought)
	OwnClaim           = "own_claim"            // buying one's own listing

	// Coupons (docs/coupons.md).
	CouponNotUsable     = "coupon_not_usable"     // the bid's coupon can't go with it; the detail says why
	BonusBudgetExceeded = "bonus_budget_exceeded" // the bonus account's headroom does not cover the coupon

	// Project codes.
	LimitExceeded       = "limit_exceeded"       // borrower's outstanding principal cap
	WithdrawalWindow    = "withdrawal_window"    // large-value route outside its hours
	BankUnavailable     = "bank_unavailable"     // the bank did not answer; safe to retry
	Unavailable         = "unavailable"          // the workflow service did not answer; safe to retry
	FourFactorMismatch  = "four_factor_mismatch" // account opening refused by the bank
	AuthorizationNeeded = "authorization_needed" // no valid repayment authorization
)

// Codes is every code above: a refusal's code is one of these.
var Codes = []string{
	ValidationFailed, Unauthenticated, Forbidden, NotFound, Conflict, IdempotencyKeyReused, ListingNotOpen,
	Oversubscribed, BelowMinimumBid, NotBidMultiple, InsufficientBalance, SuitabilityMismatch, OwnLoan, NewbieOnly,
	AccountLocked, NoCustodyAccount, NoRiskAssessment, InvalidState, RateLimited, IdentityTaken, LoginThrottled,
	CardChangeRefused, NotGuarantor, LimitExceeded, WithdrawalWindow, BankUnavailable, Unavailable, FourFactorMismatch,
	AuthorizationNeeded, TransferNotAllowed, TransferNotOpen, OwnClaim, CouponNotUsable, BonusBudgetExceeded,
}

// Known reports whether code is a refusal code: an error that crossed a
// boundary as text (a Temporal application error's type) is a refusal to
// answer as such only then; anything else (a panic, a timeout) is not.
func Known(code string) bool {
	for _, c := range Codes {
		if c == code {
			return true
		}
	}
	return false
}

// Error is a domain refusal.
type Error struct {
	Code   string
	Detail string
	// Field names the request field a validation_failed refusal is about;
	// its Detail is then written for the client, who sees it beside the field.
	Field string
	// Figures are the amounts the refused party needs to act on the refusal
	// (docs/api.md "Errors": the borrower's outstanding principal and the
	// cap, a balance), taken from the platform's own records when the
	// refusal is made; never parsed out of Detail. The API writes each as a
	// member of the problem.
	Figures map[string]decimal.Decimal
}

// With adds the figure name to e and answers e.
func (e *Error) With(name string, amount decimal.Decimal) *Error {
	if e.Figures == nil {
		e.Figures = map[string]decimal.Decimal{}
	}
	e.Figures[name] = amount
	return e
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// New makes a refusal.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Invalid refuses the request's field with a message the client may read.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: ValidationFailed, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Code returns err's refusal code, or "" when err is not a refusal.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
