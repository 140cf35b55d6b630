package lending

import (
	"time"

	"github.com/shopspring/decimal"
)

// Limits of an application (docs/rules.md "limits", docs/lifecycle.md).
var (
	MinAmount = decimal.RequireFromString("1000.00")
	MaxAmount = decimal.RequireFromString("200000.00")
	// PrincipalCap is the 2016 interim measures' cap on one individual's
	// outstanding principal on the platform, this loan included.
	PrincipalCap = decimal.RequireFromString("200000.00")
	// DueDiligenceAbove: a loan over this amount (or of grade D/E) waits for
	// ops' manual due diligence.
	DueDiligenceAbove = decimal.RequireFromString("50000.00")
	// MaxAnnualRate is the highest annual rate a loan may carry, as ops set
	// it at due diligence and as an auto-invest rule asks for it: the
	// judicial protection line for private lending (docs/rules.md "Due
	// diligence").
	MaxAnnualRate = decimal.RequireFromString("0.24")
)

// Term limits, in months.
const (
	MinTermMonths = 1
	MaxTermMonths = 36
)

// ListingDays is how long a listing is open for bids unless configured otherwise.
const ListingDays = 7

// Collection by days past due (docs/rules.md "overdue"; docs/collection.md).
const (
	ReminderDaysBefore = 3  // the pre-due reminder
	M2FromDPD          = 31 // ops collection task
	M3FromDPD          = 61 // compensation by the guarantor or the risk reserve
	WriteOffAfterDPD   = 90 // beyond this ops are asked to write off
	WriteOffReaskDays  = 30 // a declined write-off is asked again this much later
)

// M1ReminderDPDs are the days past due on which M1 reminders go out.
var M1ReminderDPDs = []int{1, 8, 15, 22}

// Bucket names the delinquency bucket of a number of days past due.
func Bucket(dpd int) string {
	switch {
	case dpd <= 0:
		return ""
	case dpd < M2FromDPD:
		return "M1"
	case dpd < M3FromDPD:
		return "M2"
	case dpd <= WriteOffAfterDPD:
		return "M3"
	}
	return "M3+"
}

// Step is one dated step of the repayment and collection schedule
// (workflows/collection.go). The values land in workflow histories and the
// loan's history rows: never rename one.
type Step string

// Collection steps, in the order they fall for one installment.
const (
	StepReminder    Step = "reminder"          // 3 days before the due date, to the borrower
	StepAutoDebit   Step = "auto_debit"        // on the due date, under the repayment authorization
	StepMarkOverdue Step = "mark_overdue"      // the day after a due date passes unpaid
	StepM1          Step = "m1"                // an overdue notice to the borrower
	StepM2          Step = "m2"                // an ops collection task
	StepM3          Step = "m3"                // compensation by the guarantor or the risk reserve
	StepWriteOffAsk Step = "write_off_request" // ops are asked to write the loan off
)

// ReminderOn is the business date of an installment's pre-due reminder.
func ReminderOn(due time.Time) time.Time { return due.AddDate(0, 0, -ReminderDaysBefore) }

// NoticeKind is what a notification tells its reader (docs/api.md "Endpoints"
// second round"). The values are the API's: never rename one.
type NoticeKind string

// Notification kinds.
const (
	NoticeReminder             NoticeKind = "repayment_reminder"
	NoticeRepaymentReceived    NoticeKind = "repayment_received"
	NoticeRepaymentFailed      NoticeKind = "repayment_failed"
	NoticeOverdue              NoticeKind = "overdue_notice"
	NoticeCompensationPaid     NoticeKind = "compensation_paid"
	NoticeCompensationReceived NoticeKind = "compensation_received"
	NoticeWrittenOff           NoticeKind = "written_off"
	NoticeRecoveryReceived     NoticeKind = "recovery_received"
	NoticeWithdrawalSucceeded  NoticeKind = "withdrawal_succeeded"
	NoticeWithdrawalReversed   NoticeKind = "withdrawal_reversed"
	// NoticeRegistrationAttempted: someone tried to register an account with
	// the user's email (docs/security.md "Registration"), once a day at most.
	NoticeRegistrationAttempted NoticeKind = "registration_attempted"

	// Third round (issues 19, 20, 22).
	NoticeDisbursed         NoticeKind = "disbursed"          // the borrower received the loan; each investor's bid became a claim
	NoticeListingExpired    NoticeKind = "listing_expired"    // the listing closed without filling (流标): to the borrower
	NoticeBidReleased       NoticeKind = "bid_released"       // a frozen bid was unfrozen (expiry, review rejected, cancelled)
	NoticeRechargeSucceeded NoticeKind = "recharge_succeeded" // the bank confirmed a recharge
	NoticeCouponGranted     NoticeKind = "coupon_granted"     // ops granted the investor a coupon
	NoticeCouponPaid        NoticeKind = "coupon_paid"        // the bonus account paid a coupon's cash or bonus
	NoticeTransferSold      NoticeKind = "transfer_sold"      // the seller's claim was bought
	NoticeTransferBought    NoticeKind = "transfer_bought"    // the buyer now holds the claim
	NoticeTransferLapsed    NoticeKind = "transfer_lapsed"    // a transfer listing lapsed unsold
	// NoticeBonusPaymentFailed is an ops task: the bonus account could not
	// pay a coupon's bonus.
	NoticeBonusPaymentFailed NoticeKind = "bonus_payment_failed"
)

// NoticeKinds is every notification kind, as the database's check
// (notifications_kind_check) spells them.
var NoticeKinds = []NoticeKind{
	NoticeReminder, NoticeRepaymentReceived, NoticeRepaymentFailed, NoticeOverdue, NoticeCompensationPaid,
	NoticeCompensationReceived, NoticeWrittenOff, NoticeRecoveryReceived, NoticeWithdrawalSucceeded,
	NoticeWithdrawalReversed, NoticeRegistrationAttempted,
	NoticeDisbursed, NoticeListingExpired, NoticeBidReleased, NoticeRechargeSucceeded, NoticeCouponGranted,
	NoticeCouponPaid, NoticeTransferSold, NoticeTransferBought, NoticeTransferLapsed, NoticeBonusPaymentFailed,
}
