package contact

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/lendflow/lendflow/lending"
)

// subjects are the e-mail subjects by kind, in the words of the notices
// themselves (docs/collection.md "Contact"). TestEveryKindHasASubject keeps
// every kind here.
var subjects = map[lending.NoticeKind]string{
	lending.NoticeReminder:              "Repayment reminder",
	lending.NoticeRepaymentReceived:     "Repayment received",
	lending.NoticeRepaymentFailed:       "Auto-debit not made",
	lending.NoticeOverdue:               "Overdue notice",
	lending.NoticeCompensationPaid:      "Compensation paid",
	lending.NoticeCompensationReceived:  "Compensation received",
	lending.NoticeWrittenOff:            "Loan written off",
	lending.NoticeRecoveryReceived:      "Recovery received",
	lending.NoticeWithdrawalSucceeded:   "Withdrawal paid",
	lending.NoticeWithdrawalReversed:    "Withdrawal reversed",
	lending.NoticeRegistrationAttempted: "Someone tried to register with your e-mail",
	lending.NoticeDisbursed:             "Loan disbursed",
	lending.NoticeListingExpired:        "Listing expired",
	lending.NoticeBidReleased:           "Bid released",
	lending.NoticeRechargeSucceeded:     "Recharge received",
	lending.NoticeCouponGranted:         "Coupon granted",
	lending.NoticeCouponPaid:            "Coupon paid",
	lending.NoticeTransferSold:          "Claim sold",
	lending.NoticeTransferBought:        "Claim bought",
	lending.NoticeTransferLapsed:        "Transfer listing lapsed",
	lending.NoticeBonusPaymentFailed:    "Bonus payment failed",
}

// Subject is the e-mail subject of o: what it is, and the loan it is about.
func Subject(o Outgoing) string {
	s, ok := subjects[o.Kind]
	if !ok {
		s = "Notice"
	}
	if o.LoanID != 0 {
		s += fmt.Sprintf(" (loan %d)", o.LoanID)
	}
	return "lendflow: " + s
}

// MessageID is the notice's e-mail Message-ID, the same on every attempt:
// a notice sent twice (a crash between the send and its mark) is one message
// to the mail systems that deduplicate on it, and the person sees it once.
func MessageID(id int64, domain string) string {
	return fmt.Sprintf("<notification-%d@%s>", id, domain)
}

// compose writes o as an RFC 5322 message from from: UTF-8 text, quoted-
// printable (names and messages may be Chinese), with its stable Message-ID.
func compose(o Outgoing, from *mail.Address, now time.Time) ([]byte, error) {
	to := &mail.Address{Name: o.Name, Address: o.Email}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", Subject(o)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", MessageID(o.ID, domain))
	// Not a person writing: auto-responders stay quiet (RFC 3834).
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := fmt.Sprintf("Dear %s,\r\n\r\n%s\r\n\r\nBusiness date: %s\r\n\r\n-- \r\nlendflow. This notice is also in the app, with all your notices.\r\n",
		o.Name, o.Message, o.BusinessDate.Format(time.DateOnly))
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
