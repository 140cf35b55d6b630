package activities

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// Inputs and results of the loan activities. They land in workflow histories,
// so fields are only added, never renamed.
//
// Every input that changes the loan carries Seq, the workflow's step number:
// the activity writes its history rows as Seq, Seq+1, … (at most SeqBlock of
// them), so a retried write is a no-op, and publishes the loan's next dated
// step with it, so a later step's publication always wins (docs/workflow.md
// "The business clock").

// SeqBlock is how many history rows one activity may write.
const SeqBlock = 10

// ScreenInput screens a submitted application and, when nothing else is
// needed, opens its listing for ListingDays.
type ScreenInput struct {
	LoanID      int64
	Seq         int
	Today       time.Time
	ListingDays int
}

// ScreenResult is where screening left the loan: rejected, due_diligence
// (ops decide) or listed (open for bids until ExpiresOn).
type ScreenResult struct {
	Status    lending.Status
	Reasons   []string // why screening refused, for the history and the borrower
	Score     int
	Grade     string
	Rate      decimal.Decimal
	ExpiresOn *time.Time
	Newbie    bool
}

// ListInput opens the listing of an approved loan (after due diligence).
type ListInput struct {
	LoanID    int64
	Seq       int
	From      lending.Status // due_diligence (empty), or awaiting_guarantor
	Grade     string
	Rate      decimal.Decimal
	Note      string // the approval, for the history
	Today     time.Time
	ExpiresOn time.Time
}

type ListResult struct {
	Newbie bool
}

// MarkFullInput moves a listing whose raised amount equals its amount, with
// every freeze confirmed, to full and then to full-tender review.
type MarkFullInput struct {
	LoanID int64
	Seq    int
	Today  time.Time
}

// CloseInput ends a loan before disbursement: expired (流标) or cancelled
// while listed, review_rejected from full_review, rejected or cancelled before
// listing. Every freeze of its bids is released at the bank.
type CloseInput struct {
	LoanID int64
	Seq    int
	From   []lending.Status
	To     lending.Status
	Note   string
	Today  time.Time
}

type CloseResult struct {
	Closed   bool // false: the listing filled first
	Released int
	Amount   decimal.Decimal
}

// RecordInput writes a history row, moving the loan From → To when they differ.
type RecordInput struct {
	LoanID int64
	Seq    int
	From   []lending.Status
	To     lending.Status
	Note   string
	Today  time.Time
	// Next, when set, is the loan's next dated step, published with the row
	// (a declined write-off: ops are asked again 30 days later).
	Next *time.Time
}

type DisburseInput struct {
	LoanID  int64
	Seq     int
	Attempt int // a failed batch is retried under a new request number; a retried activity reuses its own
	Note    string
	Today   time.Time
}

// Due is one installment as the workflow knows it: its number, due date and
// amount (principal + interest), for the schedule and the summaries.
type Due struct {
	No      int
	DueDate time.Time
	Amount  decimal.Decimal
}

type DisburseResult struct {
	Succeeded bool
	Code      string // the bank's reason when the batch failed
	Schedule  []Due
}

type RepayInput struct {
	LoanID  int64
	Seq     int
	Kind    lending.RepayKind
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
	// Status is the loan's status after the attempt: repaying, overdue or
	// repaid (the database's word, so the workflow never derives its own).
	Status lending.Status
}

// CollectInput takes the steps of one date of the collection schedule
// (workflows.Collection): mark overdue, the auto-debit, contact, compensation,
// the write-off request.
type CollectInput struct {
	LoanID      int64
	Seq         int
	On          time.Time
	Steps       []lending.Step
	Installment int // the oldest open installment
	DPD         int // its days past due on On
	Attempt     int // the repayment attempt number, if the steps include the auto-debit
}

type CollectResult struct {
	Repay  RepayResult    // the auto-debit's outcome; zero when it was not tried
	Status lending.Status // the loan's status after the stop
}

type WriteOffInput struct {
	LoanID int64
	Seq    int
	Note   string
	Today  time.Time
}

// RecoverInput distributes one recovery recorded by ops after a write-off.
type RecoverInput struct {
	RecoveryID int64
}

// RecoverResult is how a recovery ended and who received what.
type RecoverResult struct {
	Succeeded   bool
	Code        string // why not: insufficient_balance, more than was lost, a bank refusal
	Detail      string
	Amount      decimal.Decimal
	Distributed []Distributed
}

// Distributed is one holder's part of a recovery. UserID is 0 for the risk reserve.
type Distributed struct {
	Holder string // investor | guarantor | reserve
	UserID int64
	Amount decimal.Decimal
}

// Debt transfer's steps (docs/transfer.md): each carries Seq for its history
// row and Next, the loan's next dated step once the step is done (with or
// without an open listing's lapse date), which it publishes.

// OfferTransferInput lists a holding's claim for sale.
type OfferTransferInput struct {
	LoanID    int64
	Seq       int
	HoldingID int64
	SellerID  int64
	Discount  decimal.Decimal
	Today     time.Time
	Next      *time.Time
}

// BuyTransferInput carries out the purchase a buyer won in PostgreSQL.
type BuyTransferInput struct {
	LoanID     int64
	Seq        int
	TransferID int64
	Attempt    int
	BuyerID    int64
	Price      decimal.Decimal // as quoted on Today, the purchase's business date
	Today      time.Time
	Next       *time.Time
}

// CancelTransferInput closes a listing at its seller's request.
type CancelTransferInput struct {
	LoanID     int64
	Seq        int
	TransferID int64
	SellerID   int64
	Today      time.Time
	Next       *time.Time
}

// LapseTransfersInput closes every open listing of the loan.
type LapseTransfersInput struct {
	LoanID int64
	Seq    int
	Reason string
	Today  time.Time
	Next   *time.Time
}

// TransferResult is how a transfer step ended: done, or refused (Code and a
// Detail) with nothing moved.
type TransferResult struct {
	TransferID int64
	Code       string
	Detail     string
	HoldingID  int64 // the buyer's new holding, once sold
	Price      decimal.Decimal
	Fee        decimal.Decimal
	Lapsed     []int64 // the listings a lapse closed
}
