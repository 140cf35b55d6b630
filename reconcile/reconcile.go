// Package reconcile compares the custody bank's daily reconciliation file
// (对账文件) with the platform's ledger, movement by movement: for every
// request number, each custody account's net change must be the same to the
// cent on both sides (DOMAIN.md "Custody bank accounts": the bank's record is
// the truth, and the ledger must match it).
package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
)

// Statuses of a day.
const (
	Matched    = "matched"
	Mismatched = "mismatched"
	Pending    = "pending" // the business day is not over: the file may still grow
)

// Difference is one movement that does not agree.
type Difference struct {
	RequestNo    string `json:"request_no"`
	Account      string `json:"account"`
	BankAmount   string `json:"bank_amount"`
	LedgerAmount string `json:"ledger_amount"`
	Reason       string `json:"reason"`
}

// Report is a day's comparison.
type Report struct {
	Date        string       `json:"date"`
	Status      string       `json:"status"`
	Differences []Difference `json:"differences"`
}

// Source is where the bank's file comes from.
type Source interface {
	Reconciliation(ctx context.Context, date time.Time) ([]bank.ReconciliationLine, error)
}

var platformAccounts = map[string]string{
	ledger.PlatformFee: bank.AccountFee, ledger.PlatformBonus: bank.AccountBonus,
	ledger.PlatformRiskReserve: bank.AccountRiskReserve, ledger.PlatformSummary: bank.AccountSummary,
}

// Run compares one business date. today decides whether the day is closed.
func Run(ctx context.Context, q *dbq.Queries, src Source, date, today time.Time) (Report, error) {
	lines, err := src.Reconciliation(ctx, date)
	if err != nil {
		return Report{}, fmt.Errorf("the bank's file for %s: %w", date.Format(time.DateOnly), err)
	}
	rows, err := q.LedgerMovementsOn(ctx, date)
	if err != nil {
		return Report{}, err
	}
	bankNet := map[string]map[string]decimal.Decimal{}
	add := func(m map[string]map[string]decimal.Decimal, req, acct string, amt decimal.Decimal) {
		if m[req] == nil {
			m[req] = map[string]decimal.Decimal{}
		}
		m[req][acct] = m[req][acct].Add(amt)
	}
	for _, l := range lines {
		if l.Status == bank.StatusFailed {
			continue
		}
		req := l.RequestNo
		if l.Type == bank.MoveWithdrawalReversal {
			req += "-reversal" // the ledger books a reversal under its own number
		}
		// Money outside custody (cards, the outside world) is not compared:
		// only what the bank holds is.
		if custody(l.From) {
			add(bankNet, req, l.From, l.Amount.Neg())
		}
		if custody(l.To) {
			add(bankNet, req, l.To, l.Amount)
		}
		if _, ok := bankNet[req]; !ok {
			bankNet[req] = map[string]decimal.Decimal{}
		}
	}
	ledgerNet := map[string]map[string]decimal.Decimal{}
	for _, r := range rows {
		acct := platformAccounts[r.Code]
		switch {
		case r.Code == ledger.ExternalCards:
			if ledgerNet[r.RequestNo] == nil {
				ledgerNet[r.RequestNo] = map[string]decimal.Decimal{}
			}
			continue
		case acct != "":
		case r.CustodyAccountNo != nil:
			acct = *r.CustodyAccountNo
		default:
			acct = r.Code // a user without a custody account: always a difference
		}
		add(ledgerNet, r.RequestNo, acct, r.Net)
	}

	rep := Report{Date: date.Format(time.DateOnly), Differences: []Difference{}}
	for req, accts := range bankNet {
		led, ok := ledgerNet[req]
		if !ok {
			rep.Differences = append(rep.Differences, Difference{RequestNo: req, Reason: "at the bank, not in the ledger", BankAmount: total(accts)})
			continue
		}
		rep.Differences = append(rep.Differences, compare(req, accts, led)...)
	}
	for req, accts := range ledgerNet {
		if _, ok := bankNet[req]; !ok {
			rep.Differences = append(rep.Differences, Difference{RequestNo: req, Reason: "in the ledger, not at the bank", LedgerAmount: total(accts)})
		}
	}
	sort.Slice(rep.Differences, func(i, j int) bool {
		a, b := rep.Differences[i], rep.Differences[j]
		return a.RequestNo+a.Account < b.RequestNo+b.Account
	})
	switch {
	case !date.Before(today):
		rep.Status = Pending
	case len(rep.Differences) > 0:
		rep.Status = Mismatched
	default:
		rep.Status = Matched
	}
	return rep, nil
}

func compare(req string, b, l map[string]decimal.Decimal) []Difference {
	var out []Difference
	seen := map[string]bool{}
	for acct, amt := range b {
		seen[acct] = true
		if !amt.Equal(l[acct]) {
			out = append(out, Difference{RequestNo: req, Account: acct, BankAmount: amt.StringFixed(2), LedgerAmount: l[acct].StringFixed(2), Reason: "amounts differ"})
		}
	}
	for acct, amt := range l {
		if !seen[acct] && !amt.IsZero() {
			out = append(out, Difference{RequestNo: req, Account: acct, BankAmount: "0.00", LedgerAmount: amt.StringFixed(2), Reason: "amounts differ"})
		}
	}
	return out
}

func total(m map[string]decimal.Decimal) string {
	sum := decimal.Zero
	for _, v := range m {
		if v.Sign() > 0 {
			sum = sum.Add(v)
		}
	}
	return sum.StringFixed(2)
}

// custody: an account the bank holds for the platform or a user, not a card
// or the outside world.
func custody(acct string) bool {
	return acct != "" && acct != "external" && !strings.HasPrefix(acct, "card:")
}
