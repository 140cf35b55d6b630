package bank

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Movement types in the reconciliation file.
const (
	MoveRecharge      = "recharge"       // card → account
	MoveWithdrawal    = "withdrawal"     // account → card
	MoveWithdrawalFee = "withdrawal_fee" // account → P-FEE
	// MoveWithdrawalReversal is 冲正: item 0 card → account (the amount),
	// item 1 P-FEE → account (the fee, when there was one).
	MoveWithdrawalReversal = "withdrawal_reversal"
	MoveFreeze             = "freeze"       // account available → account frozen
	MoveUnfreeze           = "unfreeze"     // account frozen → account available
	MoveTransfer           = "transfer"     // single transfer (compensation, bonus)
	MoveBatch              = "batch"        // one item of a batch (disbursement, repayment)
	MoveDeposit            = "deposit"      // the platform's own money into a platform account
	MoveBonusTopUp         = "bonus_top_up" // the platform's card → P-BONUS
)

// ExternalAccount is the counterpart of a platform deposit: money from the
// platform company's own bank account, outside custody.
const ExternalAccount = "external"

// CardAccount is how the reconciliation file names a card, the world outside
// custody that recharges come from and withdrawals go to.
func CardAccount(cardNumber string) string { return "card:" + cardNumber }

// ReconciliationHeader is the first row of the daily file (对账文件).
var ReconciliationHeader = []string{
	"request_no", "item", "type", "from", "to", "amount", "status",
	"business_date", "time", "freeze_request_no", "purpose",
}

// ReconciliationLine is one movement of money at the bank on one business
// date. Status is the request's status when the file was produced: a
// withdrawal reversed on a later day shows "reversed" in its own day's file
// too, and its withdrawal_reversal line is in the file of the reversal's day.
type ReconciliationLine struct {
	RequestNo       string
	Item            int // position in a batch; 0 otherwise
	Type            string
	From            string
	To              string
	Amount          decimal.Decimal
	Status          Status
	BusinessDate    time.Time
	Time            time.Time
	FreezeRequestNo string
	Purpose         string
}

// Record is the line as CSV fields, in ReconciliationHeader's order.
func (l ReconciliationLine) Record() []string {
	return []string{
		l.RequestNo, strconv.Itoa(l.Item), l.Type, l.From, l.To, l.Amount.StringFixed(2), string(l.Status),
		l.BusinessDate.Format(time.DateOnly), l.Time.UTC().Format(time.RFC3339Nano), l.FreezeRequestNo, l.Purpose,
	}
}

// ParseReconciliation reads a reconciliation file.
func ParseReconciliation(r io.Reader) ([]ReconciliationLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(ReconciliationHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reconciliation header: %w", err)
	}
	for i, h := range ReconciliationHeader {
		if head[i] != h {
			return nil, fmt.Errorf("reconciliation header: column %d is %q, want %q", i, head[i], h)
		}
	}
	var out []ReconciliationLine
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		item, err := strconv.Atoi(rec[1])
		if err != nil {
			return nil, fmt.Errorf("reconciliation %s: item: %w", rec[0], err)
		}
		amount, err := decimal.NewFromString(rec[5])
		if err != nil {
			return nil, fmt.Errorf("reconciliation %s: amount: %w", rec[0], err)
		}
		day, err := time.Parse(time.DateOnly, rec[7])
		if err != nil {
			return nil, fmt.Errorf("reconciliation %s: business date: %w", rec[0], err)
		}
		at, err := time.Parse(time.RFC3339Nano, rec[8])
		if err != nil {
			return nil, fmt.Errorf("reconciliation %s: time: %w", rec[0], err)
		}
		out = append(out, ReconciliationLine{
			RequestNo: rec[0], Item: item, Type: rec[2], From: rec[3], To: rec[4], Amount: amount,
			Status: Status(rec[6]), BusinessDate: day, Time: at, FreezeRequestNo: rec[9], Purpose: rec[10],
		})
	}
}
