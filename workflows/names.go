// Package workflows holds the loan workflow: one durable execution per loan
// from application to repaid, expired, rejected or written off.
package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Names that land in workflow histories. They are reviewed once and never
// renamed: a running loan's history refers to them.
const (
	TaskQueue = "lendflow"

	LoanWorkflowName     = "LoanWorkflow"
	RecoveryWorkflowName = "RecoveryWorkflow"

	// SignalListingFull is sent by the bid path once the guarded increment in
	// PostgreSQL has filled the listing and every bid is frozen.
	SignalListingFull = "listing-full"

	UpdateAdvanceClock     = "advance-clock"
	UpdateDueDiligence     = "decide-due-diligence"
	UpdateFullTenderReview = "review-full-tender"
	UpdateWriteOff         = "decide-write-off"
	UpdateCancel           = "cancel"
	UpdateRepay            = "repay"
	UpdateRetryDisbursal   = "retry-disbursement"
	UpdateGuarantee        = "decide-guarantee"
	// Debt transfer (docs/transfer.md): a holder's offer and cancel, and the
	// purchase of the one buyer who won a listing in PostgreSQL.
	UpdateOfferTransfer  = "offer-transfer"
	UpdateBuyTransfer    = "buy-transfer"
	UpdateCancelTransfer = "cancel-transfer"

	QueryState = "loan-state"
)

// Activity names (the worker registers each method of activities.Activities
// under its name here).
const (
	ActivityScreen   = "Screen"
	ActivityList     = "List"
	ActivityMarkFull = "MarkFull"
	ActivityClose    = "Close"
	ActivityRecord   = "Record"
	ActivityDisburse = "Disburse"
	ActivityRepay    = "Repay"
	ActivityCollect  = "Collect"
	ActivityWriteOff = "WriteOff"
	ActivityRecover  = "Recover"

	ActivityOfferTransfer  = "OfferTransfer"
	ActivityBuyTransfer    = "BuyTransfer"
	ActivityCancelTransfer = "CancelTransfer"
	ActivityLapseTransfers = "LapseTransfers"
)

// Search attributes an engineer filters loans by in the Temporal UI. Amounts
// are in fen (Int) so no money passes through a float.
var (
	SALoanStatus     = temporal.NewSearchAttributeKeyKeyword("LoanStatus")
	SALoanBorrowerID = temporal.NewSearchAttributeKeyInt64("LoanBorrowerID")
	SALoanGrade      = temporal.NewSearchAttributeKeyKeyword("LoanGrade")
	SALoanAmountFen  = temporal.NewSearchAttributeKeyInt64("LoanAmountFen")
)

// SearchAttributeTypes is what the dev server must register (scripts/up.sh, the e2e test).
var SearchAttributeTypes = map[string]string{
	"LoanStatus":     "Keyword",
	"LoanBorrowerID": "Int",
	"LoanGrade":      "Keyword",
	"LoanAmountFen":  "Int",
}

// LoanWorkflowID derives the workflow ID from the loan ID, so an engineer who
// has a loan number finds its history directly.
func LoanWorkflowID(loanID int64) string { return fmt.Sprintf("loan-%d", loanID) }

// RecoveryWorkflowID is the workflow of one recovery on a written-off loan.
func RecoveryWorkflowID(loanID, recoveryID int64) string {
	return fmt.Sprintf("loan-%d-recovery-%d", loanID, recoveryID)
}

func itoa(n int64) string { return fmt.Sprint(n) }
