// Package bank is the platform's view of the custody bank (存管银行): the
// request and result types both the HTTP client and the simulator speak, and
// the Client interface the activities call.
//
// The bank's record is the truth (docs/rules.md "Custody bank accounts"). Every
// call carries a request number (流水号) chosen by the caller from business
// identity; the bank does the work of one number once and answers a repeat with
// the first result, and refuses a repeat whose content differs.
package bank

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/errs"
)

// Platform account numbers. The bank opens these itself; they are never user
// sub-accounts.
const (
	AccountFee         = "P-FEE"     // 手续费账户: only receives
	AccountBonus       = "P-BONUS"   // 红包账户: only pays
	AccountRiskReserve = "P-RISK"    // 风险准备金
	AccountSummary     = "P-SUMMARY" // 汇总账户: offline transfers land here first
)

// PlatformCard is how the reconciliation file names the platform company's
// own bound card, outside custody, that tops the bonus account up.
const PlatformCard = "card:platform"

// AccountKind is the type of a user sub-account.
type AccountKind string

const (
	KindInvestor  AccountKind = "investor"
	KindBorrower  AccountKind = "borrower"
	KindGuarantor AccountKind = "guarantor"
)

// Status of a request at the bank.
type Status string

const (
	StatusProcessing Status = "processing" // accepted; the final result comes by callback or query
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusReversed   Status = "reversed" // 冲正: a succeeded withdrawal returned by the bank
)

// Route of a withdrawal (docs/rules.md "Withdrawal route").
type Route string

const (
	RouteSuperEBank Route = "super_ebank"
	RouteLargeValue Route = "large_value"
)

type OpenAccountRequest struct {
	RequestNo  string      `json:"request_no"`
	Kind       AccountKind `json:"kind"`
	Name       string      `json:"name"`
	IDNumber   string      `json:"id_number"`
	Phone      string      `json:"phone"`
	CardNumber string      `json:"card_number"`
}

type OpenAccountResult struct {
	RequestNo string `json:"request_no"`
	AccountNo string `json:"account_no"`
}

// ChangeCardRequest binds a new card to the account (换卡: unbind the old card
// and bind the new one in one step). The bank allows it only while the
// account holds nothing, available and frozen, and no withdrawal is in
// flight to the old card (同卡进出); whether the user holds claims or owes
// money is the platform's check, made before it asks.
type ChangeCardRequest struct {
	RequestNo  string `json:"request_no"`
	AccountNo  string `json:"account_no"`
	CardNumber string `json:"card_number"`
}

type RechargeRequest struct {
	RequestNo  string          `json:"request_no"`
	AccountNo  string          `json:"account_no"`
	CardNumber string          `json:"card_number"`
	Amount     decimal.Decimal `json:"amount"`
}

type WithdrawRequest struct {
	RequestNo string          `json:"request_no"`
	AccountNo string          `json:"account_no"`
	Amount    decimal.Decimal `json:"amount"` // paid out to the bound card
	Fee       decimal.Decimal `json:"fee"`    // moved to AccountFee
	Route     Route           `json:"route"`
}

// FreezeRequest moves Amount from available to frozen (投标冻结). The freeze is
// named by its RequestNo; it can be released (Unfreeze) or spent (a batch item
// with FreezeRequestNo) once.
type FreezeRequest struct {
	RequestNo string          `json:"request_no"`
	AccountNo string          `json:"account_no"`
	Amount    decimal.Decimal `json:"amount"`
}

type UnfreezeRequest struct {
	RequestNo       string `json:"request_no"`
	FreezeRequestNo string `json:"freeze_request_no"`
}

// Transfer moves Amount From → To. With FreezeRequestNo set it spends that
// freeze (whose amount must equal Amount) instead of From's available balance.
type Transfer struct {
	From            string          `json:"from"`
	To              string          `json:"to"`
	Amount          decimal.Decimal `json:"amount"`
	FreezeRequestNo string          `json:"freeze_request_no,omitempty"`
}

type TransferRequest struct {
	RequestNo string `json:"request_no"`
	Transfer
	Purpose string `json:"purpose"` // compensation, bonus, …: shown in the reconciliation file
}

// TopUpRequest fills the bonus account (红包账户) from the platform's own
// bound card (PlatformCard): the one way money enters an account that only
// pays.
type TopUpRequest struct {
	RequestNo string          `json:"request_no"`
	Amount    decimal.Decimal `json:"amount"`
}

// BatchRequest is all-or-nothing: every transfer happens or none does.
type BatchRequest struct {
	RequestNo string     `json:"request_no"`
	Purpose   string     `json:"purpose"` // disbursement, repayment
	Transfers []Transfer `json:"transfers"`
}

// Result is the bank's answer to any money request, and what a query returns.
type Result struct {
	RequestNo string `json:"request_no"`
	Status    Status `json:"status"`
	Code      string `json:"code,omitempty"` // why it failed
	Message   string `json:"message,omitempty"`
	// Kind is the request's type at the bank (open_account, recharge,
	// withdrawal, freeze, unfreeze, transfer, batch, change_card, deposit).
	Kind string `json:"kind,omitempty"`
	// AccountNo is the account the request concerns: for open_account, the
	// account it opened, so a query can finish an unanswered opening.
	AccountNo string `json:"account_no,omitempty"`
	// BusinessDate is the bank's business date (YYYY-MM-DD) the request was
	// stamped with: the reconciliation file it appears in.
	BusinessDate string `json:"business_date,omitempty"`
}

// Outcome turns a bank answer into done / refused / try again. A request
// still processing at the bank is retried under the same request number until
// its final result is known; the bank never does the work twice.
func Outcome(res Result, err error) (ok bool, code string, _ error) {
	if err != nil {
		var be *Error
		if errors.As(err, &be) && !be.Retryable {
			return false, be.Code, nil
		}
		return false, "", err
	}
	switch res.Status {
	case StatusSucceeded:
		return true, "", nil
	case StatusFailed:
		if res.Code == "" {
			res.Code = errs.Conflict
		}
		return false, res.Code, nil
	default:
		return false, "", fmt.Errorf("bank request %s is %s", res.RequestNo, res.Status)
	}
}

// Day is the business date the bank stamped the request with: the day of
// its reconciliation file, and so of the ledger entry that mirrors it. A
// result without one (an older simulator) falls back to the platform's date.
func (r Result) Day(fallback time.Time) time.Time {
	if d, err := time.Parse(time.DateOnly, r.BusinessDate); err == nil {
		return d
	}
	return fallback
}

type Balance struct {
	AccountNo string          `json:"account_no"`
	Available decimal.Decimal `json:"available"`
	Frozen    decimal.Decimal `json:"frozen"`
}

// Client is what the platform asks of the bank. Methods return *Error with
// Retryable false for a refusal, which is final; a *Error with Retryable true
// (the bank failed, 5xx) or any other error (transport, timeout) means the
// outcome is unknown and the same request number must be sent again.
//
// Every money method can also refuse with CodeInvalidRequest (malformed:
// missing fields, an amount not positive or with more than 2 decimals) and
// CodeRequestNoReused (the number was used for other content). Refusals that
// depend on the bank's state are recorded against the number and answered
// again on a repeat (Query shows them as StatusFailed). Refusals that depend
// on the content alone (CodeInvalidRequest, CodeFourFactorMismatch,
// CodeRouteNotAllowed) are not recorded, so corrected content may be sent
// under the same number; nor are CodeAccountNotFound and CodeFreezeNotFound,
// which the bank re-evaluates on each attempt because what is missing may be
// a request still on its way.
type Client interface {
	// OpenAccount: CodeFourFactorMismatch.
	OpenAccount(ctx context.Context, r OpenAccountRequest) (OpenAccountResult, error)
	// Recharge: CodeAccountNotFound, CodeCardMismatch (not the bound card),
	// CodeAccountRestricted (a platform account).
	Recharge(ctx context.Context, r RechargeRequest) (Result, error)
	// Withdraw answers StatusProcessing; the result comes by Callback or
	// Query. CodeInsufficientBalance (amount + fee), CodeRouteNotAllowed,
	// CodeAccountNotFound, CodeAccountRestricted.
	Withdraw(ctx context.Context, r WithdrawRequest) (Result, error)
	// Freeze: CodeInsufficientBalance, CodeAccountNotFound,
	// CodeAccountRestricted (the fee account).
	Freeze(ctx context.Context, r FreezeRequest) (Result, error)
	// Unfreeze: CodeFreezeNotFound, CodeFreezeSpent (released or spent).
	Unfreeze(ctx context.Context, r UnfreezeRequest) (Result, error)
	// Transfer: as Batch, for one transfer.
	Transfer(ctx context.Context, r TransferRequest) (Result, error)
	// Batch: CodeInsufficientBalance, CodeAccountNotFound, CodeFreezeNotFound,
	// CodeFreezeSpent, CodeAccountRestricted (paying from P-FEE or into
	// P-BONUS), CodeInvalidRequest (a freeze spent by another account or for
	// another amount), CodeBatchFailed (the bank failed the batch: nothing
	// moved; send a new batch under a new number).
	Batch(ctx context.Context, r BatchRequest) (Result, error)
	// TopUp moves Amount from the platform's card into AccountBonus
	// (CodeInvalidRequest only: the card is the platform's own).
	TopUp(ctx context.Context, r TopUpRequest) (Result, error)
	// Query answers the recorded result, refusals as StatusFailed with
	// their Code; CodeNotFound when the bank has none.
	Query(ctx context.Context, requestNo string) (Result, error)
	// Balance: CodeAccountNotFound.
	Balance(ctx context.Context, accountNo string) (Balance, error)
	// ChangeCard: CodeBalanceNotZero, CodeFourFactorMismatch (the card),
	// CodeAccountNotFound, CodeAccountRestricted.
	ChangeCard(ctx context.Context, r ChangeCardRequest) (Result, error)
}

// Error codes the bank refuses with. A refusal is final for that request number.
const (
	CodeInsufficientBalance = "insufficient_balance"
	CodeAccountNotFound     = "account_not_found"
	CodeFourFactorMismatch  = "four_factor_mismatch"
	CodeInvalidRequest      = "invalid_request"
	CodeRequestNoReused     = "request_no_reused" // same number, different content
	CodeFreezeNotFound      = "freeze_not_found"
	CodeFreezeSpent         = "freeze_spent" // released or spent already
	CodeCardMismatch        = "card_mismatch"
	CodeNotFound            = "not_found"
	CodeBatchFailed         = "batch_failed"
	CodeBalanceNotZero      = "balance_not_zero"   // card change while money is held or in flight
	CodeRouteNotAllowed     = "route_not_allowed"  // super e-banking above 50,000.00
	CodeAccountRestricted   = "account_restricted" // the fee account only receives, the bonus account only pays
	CodeInvalidState        = "invalid_state"      // e.g. reversing a withdrawal that has not succeeded
	// CodeUnavailable marks a retryable answer without a code of its own (a
	// 5xx from a proxy, say): the outcome is unknown.
	CodeUnavailable = "unavailable"
)

// Error is a refusal by the bank. Retryable marks faults (5xx) where the same
// request number may be sent again; refusals are not retryable.
type Error struct {
	Code      string
	Message   string
	Retryable bool
}

func (e *Error) Error() string { return fmt.Sprintf("bank: %s: %s", e.Code, e.Message) }

// IsCode reports whether err is a bank refusal with the given code.
func IsCode(err error, code string) bool {
	var be *Error
	return errors.As(err, &be) && be.Code == code
}
