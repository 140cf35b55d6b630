package activities

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// Inputs and results of the loan activities. They land in workflow histories,
// so fields are only added, never renamed.

type ScreenInput struct {
	LoanID int64
	Today  time.Time
}

type ScreenResult struct {
	Passed  bool
	Reasons []string // why screening refused, for the history and the borrower
	Score   int
	Grade   string
	Rate    decimal.Decimal
	// NeedsDueDiligence: over 50,000.00 or grade D/E (DOMAIN.md "due diligence").
	NeedsDueDiligence bool
}

// StatusChange moves a loan from one of From to To and writes its history row.
type StatusChange struct {
	LoanID int64
	Seq    int
	From   []lending.Status
	To     lending.Status
	Note   string
	Today  time.Time
}

type NextEventInput struct {
	LoanID int64
	On     *time.Time
}

type ListInput struct {
	LoanID    int64
	Seq       int
	Grade     string
	Rate      decimal.Decimal
	Note      string
	Today     time.Time
	ExpiresOn time.Time
}

type ListResult struct {
	Newbie bool
}

// CloseListingInput closes a listing that is not full (expired 流标 or
// cancelled) and releases every bid's freeze.
type CloseListingInput struct {
	LoanID int64
	Seq    int
	From   []lending.Status
	To     lending.Status
	Note   string
	Today  time.Time
}

type CloseListingResult struct {
	Closed bool // false: the listing filled first
}

type ReleaseBidsInput struct {
	LoanID int64
	Today  time.Time
}

type ReleaseBidsResult struct {
	Released int
	Amount   decimal.Decimal
}

type DisburseInput struct {
	LoanID  int64
	Attempt int // a failed batch is retried under a new request number; a retried activity reuses its own
	Today   time.Time
}

type Due struct {
	No      int
	DueDate time.Time
}

type DisburseResult struct {
	Succeeded bool
	Code      string // the bank's reason when the batch failed
	Schedule  []Due
}

// Repayment kinds.
const (
	RepayAuto   = "auto"   // auto-debit under the repayment authorization (还款授权)
	RepayNext   = "next"   // the borrower pays the oldest unpaid installment by hand
	RepayPayoff = "payoff" // 提前还款: remaining principal + interest accrued to today
)

type RepayInput struct {
	LoanID  int64
	Kind    string
	Attempt int
	Today   time.Time
}

type RepayResult struct {
	Paid     bool
	Code     string // why not: insufficient_balance, authorization_needed, invalid_state
	Detail   string
	Amount   decimal.Decimal
	Through  int  // highest installment no now paid
	Finished bool // every installment paid
}

type OverdueInput struct {
	LoanID int64
	Today  time.Time
}

type CollectInput struct {
	LoanID int64
	Seq    int
	Step   string // reminder, m1, m2, m3, write_off_request
	DPD    int
	Today  time.Time
}

type WriteOffInput struct {
	LoanID int64
	Seq    int
	Note   string
	Today  time.Time
}
