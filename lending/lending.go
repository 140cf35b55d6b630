// Package lending is the loan's vocabulary: the statuses a loan, an
// installment and a bid can be in, the terminal set, the limits the rules page
// sets, the collection steps, the platform time zone and its day count. The
// workflow, the activities, the API, the clock and the bid path all speak it, so
// a status is spelled once (docs/lifecycle.md).
//
// It holds no logic beyond naming and counting: it imports nothing of the
// project, and everything else may import it.
package lending

// Status is where a loan is in its life (docs/lifecycle.md). The values land
// in PostgreSQL, in workflow histories and in API answers: never rename one.
type Status string

// Loan statuses.
const (
	StatusSubmitted         Status = "submitted"
	StatusScreening         Status = "screening"
	StatusRejected          Status = "rejected"
	StatusDueDiligence      Status = "due_diligence"
	StatusApproved          Status = "approved"
	StatusAwaitingGuarantor Status = "awaiting_guarantor"
	StatusListed            Status = "listed"
	StatusExpired           Status = "expired"
	StatusFull              Status = "full"
	StatusFullReview        Status = "full_review"
	StatusReviewRejected    Status = "review_rejected"
	StatusDisbursing        Status = "disbursing"
	StatusRepaying          Status = "repaying"
	StatusOverdue           Status = "overdue"
	StatusRepaid            Status = "repaid"
	StatusWrittenOff        Status = "written_off"
	StatusCancelled         Status = "cancelled"
)

// Statuses lists every loan status in lifecycle order.
var Statuses = []Status{
	StatusSubmitted, StatusScreening, StatusRejected, StatusDueDiligence, StatusApproved,
	StatusAwaitingGuarantor, StatusListed, StatusExpired, StatusFull, StatusFullReview,
	StatusReviewRejected, StatusDisbursing, StatusRepaying, StatusOverdue, StatusRepaid,
	StatusWrittenOff, StatusCancelled,
}

// Terminal reports whether the loan's life has ended: its workflow closes and
// it has no dated work left.
func (s Status) Terminal() bool {
	switch s {
	case StatusRejected, StatusExpired, StatusReviewRejected, StatusRepaid, StatusWrittenOff, StatusCancelled:
		return true
	}
	return false
}

// Servicing reports whether the loan is disbursed and not yet closed: the
// borrower owes on its schedule.
func (s Status) Servicing() bool { return s == StatusRepaying || s == StatusOverdue }

// Cancellable reports whether the borrower may still cancel: before the
// listing is full (docs/rules.md "The loan lifecycle").
func (s Status) Cancellable() bool {
	switch s {
	case StatusSubmitted, StatusScreening, StatusDueDiligence, StatusApproved, StatusAwaitingGuarantor, StatusListed:
		return true
	}
	return false
}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// InstallmentStatus is where one installment of the schedule is.
type InstallmentStatus string

// Installment statuses.
const (
	InstallmentPending    InstallmentStatus = "pending"
	InstallmentPaid       InstallmentStatus = "paid"
	InstallmentOverdue    InstallmentStatus = "overdue"
	InstallmentWrittenOff InstallmentStatus = "written_off"
)

// Open reports whether something is still owed on the installment.
func (s InstallmentStatus) Open() bool { return s == InstallmentPending || s == InstallmentOverdue }

// BidStatus is where one bid is (docs/api.md "Endpoints").
type BidStatus string

// Bid statuses. pending: admitted, the bank's freeze not yet confirmed;
// released: unfrozen (流标, review rejected, cancelled); disbursed: spent into
// the loan, now a claim.
const (
	BidPending   BidStatus = "pending"
	BidFrozen    BidStatus = "frozen"
	BidFailed    BidStatus = "failed"
	BidReleased  BidStatus = "released"
	BidDisbursed BidStatus = "disbursed"
)

// Role is what a signed-in user may do (docs/api.md "Conventions").
type Role string

// Roles.
const (
	RoleBorrower  Role = "borrower"
	RoleInvestor  Role = "investor"
	RoleGuarantor Role = "guarantor"
	RoleOps       Role = "ops"
)

// Roles is every role: what "anyone signed in" means.
var Roles = []Role{RoleBorrower, RoleInvestor, RoleGuarantor, RoleOps}

// Decision is an ops or guarantor decision's verdict.
type Decision string

// Decisions: ops approve or reject; a guarantor accepts or declines.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
	Accept  Decision = "accept"
	Decline Decision = "decline"
)

// RepayKind is how a repayment came about.
type RepayKind string

// Repayment kinds.
const (
	RepayAuto   RepayKind = "auto"   // the due-date or collection auto-debit under the repayment authorization (还款授权)
	RepayNext   RepayKind = "next"   // the borrower pays the oldest unpaid installment by hand
	RepayPayoff RepayKind = "payoff" // 提前还款: remaining principal + interest accrued to today
)

// Strings spells statuses as the strings a query's status list takes.
func Strings[S ~string](ss ...S) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
