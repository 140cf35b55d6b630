// Package reports is the platform's daily and monthly books
// (docs/reports.md): what moved on a business date, each figure summed from
// the ledger's postings by entry type and account, and a month's sums with
// the disclosure figures at its end. The day balances: money in (recharges,
// bonus top-ups, reversed withdrawals) − money out (withdrawals) = the change
// of everything held in custody, which Day checks before it answers.
package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
)

// Figures are the movements of a day or a month (docs/api.md "Endpoints"), then
// what the balancing needs beyond them.
type Figures struct {
	Disbursed       decimal.Decimal // loans' gross amounts paid out of the investors' frozen bids
	ServiceFees     decimal.Decimal // the platform's service fees taken at disbursement
	RiskReserveIn   decimal.Decimal // into the risk reserve (borrowers' contributions)
	RiskReserveOut  decimal.Decimal // out of it (compensations it advanced)
	RepaidPrincipal decimal.Decimal
	RepaidInterest  decimal.Decimal
	RepaidPenalty   decimal.Decimal
	Compensated     decimal.Decimal // paid to holders by a guarantor or the reserve
	Recovered       decimal.Decimal // paid to holders after a write-off
	WrittenOff      decimal.Decimal // the holders' losses of the loans written off
	Recharges       decimal.Decimal
	Withdrawals     decimal.Decimal // paid to cards, fees not included
	WithdrawalFees  decimal.Decimal // charged, less those a reversal returned
	TransferVolume  decimal.Decimal // what buyers of claims paid
	TransferFees    decimal.Decimal // what sellers paid the platform
	BonusPaid       decimal.Decimal // coupons paid from the bonus account

	// Money in and out of custody beyond recharges and withdrawals.
	BonusTopUps         decimal.Decimal // the platform's own card filling the bonus account
	WithdrawalReversals decimal.Decimal // amounts a reversal (冲正) brought back from cards
	// Everything in custody (every account but the cards') at the start and
	// the end of the period.
	OpeningBalances decimal.Decimal
	ClosingBalances decimal.Decimal
}

// MoneyIn is what came into custody from outside.
func (f Figures) MoneyIn() decimal.Decimal {
	return f.Recharges.Add(f.BonusTopUps).Add(f.WithdrawalReversals)
}

// MoneyOut is what left custody for the cards.
func (f Figures) MoneyOut() decimal.Decimal { return f.Withdrawals }

// Balanced reports whether money in − money out is the change of the
// balances held in custody.
func (f Figures) Balanced() bool {
	return f.MoneyIn().Sub(f.MoneyOut()).Equal(f.ClosingBalances.Sub(f.OpeningBalances))
}

// Day is one business date's report.
type Day struct {
	Date time.Time
	Figures
}

// Month is a month's report: its days' sums and the disclosure figures at
// its end.
type Month struct {
	Month time.Time // the first day
	Figures
	// Disclosure is as of the month's last day: that day's snapshot, or, for
	// the month in progress, the figures now. AsOf says which day.
	Disclosure disclosure.Figures
}

// Service computes the reports.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	today func(context.Context) (time.Time, error)
}

// New is the service; today is the business date (a report of a day to come
// is refused).
func New(pool *pgxpool.Pool, today func(context.Context) (time.Time, error)) *Service {
	return &Service{pool: pool, q: db.Queries(pool), today: today}
}

// ErrUnbalanced is a day whose movements do not add up to its change of
// balances: the ledger is broken, which ledger.CheckConservation would say too.
var ErrUnbalanced = fmt.Errorf("reports: money in − money out is not the change of the balances")

// Day is the report of date. Errors: validation_failed (a date after today).
func (s *Service) Day(ctx context.Context, date time.Time) (Day, error) {
	if err := s.notAhead(ctx, date); err != nil {
		return Day{}, err
	}
	f, err := Compute(ctx, s.q, date, date)
	return Day{Date: date, Figures: f}, err
}

// Month is the report of the month that starts on first. Errors:
// validation_failed (a month that has not begun).
func (s *Service) Month(ctx context.Context, first time.Time) (Month, error) {
	if err := s.notAhead(ctx, first); err != nil {
		return Month{}, err
	}
	today, err := s.today(ctx)
	if err != nil {
		return Month{}, err
	}
	last := first.AddDate(0, 1, -1)
	to := last
	if today.Before(last) {
		to = today
	}
	f, err := Compute(ctx, s.q, first, to)
	if err != nil {
		return Month{}, err
	}
	m := Month{Month: first, Figures: f}
	snaps, err := disclosure.History(ctx, s.q, first, last)
	if err != nil {
		return m, err
	}
	switch {
	case len(snaps) > 0 && snaps[len(snaps)-1].AsOf.Equal(last):
		m.Disclosure = snaps[len(snaps)-1]
	case !today.After(last):
		// The month in progress: its end so far is now.
		m.Disclosure, err = disclosure.Compute(ctx, s.q, today)
	case len(snaps) > 0:
		// A past month whose last day has no snapshot (a sandbox advance
		// over it): its latest one, which AsOf names.
		m.Disclosure = snaps[len(snaps)-1]
	default:
		m.Disclosure, err = disclosure.Compute(ctx, s.q, last)
	}
	return m, err
}

func (s *Service) notAhead(ctx context.Context, date time.Time) error {
	today, err := s.today(ctx)
	if err != nil {
		return err
	}
	if date.After(today) {
		return errs.Invalid("date", "after the business date %s", today.Format(time.DateOnly))
	}
	return nil
}

// Compute sums the ledger's movements of the dates from..to (inclusive)
// into the figures, and refuses (ErrUnbalanced) figures that do not balance.
func Compute(ctx context.Context, q *dbq.Queries, from, to time.Time) (Figures, error) {
	rows, err := q.ReportPostingSums(ctx, dbq.ReportPostingSumsParams{FromDate: from, ToDate: to})
	if err != nil {
		return Figures{}, err
	}
	var f Figures
	for _, r := range rows {
		f.add(r)
	}
	if f.WrittenOff, err = q.ReportWrittenOff(ctx, dbq.ReportWrittenOffParams{FromDate: from, ToDate: to}); err != nil {
		return f, err
	}
	if f.OpeningBalances, err = q.ReportCustodyBalance(ctx, from.AddDate(0, 0, -1)); err != nil {
		return f, err
	}
	if f.ClosingBalances, err = q.ReportCustodyBalance(ctx, to); err != nil {
		return f, err
	}
	if !f.Balanced() {
		return f, fmt.Errorf("%w: %s to %s: in %s − out %s, balances %s → %s", ErrUnbalanced, from.Format(time.DateOnly),
			to.Format(time.DateOnly), f.MoneyIn(), f.MoneyOut(), f.OpeningBalances, f.ClosingBalances)
	}
	return f, nil
}

// add books one (entry type, account, kind) sum where the report counts it.
func (f *Figures) add(r dbq.ReportPostingSumsRow) {
	plus := func(d *decimal.Decimal, v decimal.Decimal) { *d = d.Add(v) }
	switch r.Account {
	case ledger.PlatformRiskReserve:
		plus(&f.RiskReserveIn, r.Credits)
		plus(&f.RiskReserveOut, r.Debits)
	}
	switch r.EntryType {
	case ledger.TypeDisbursement:
		switch r.Account {
		case "user_frozen":
			plus(&f.Disbursed, r.Debits)
		case ledger.PlatformFee:
			plus(&f.ServiceFees, r.Credits)
		}
	case ledger.TypeRepayment:
		// The holders' side: what each claim received, by its kind.
		if r.Account != "user_available" && r.Account != ledger.PlatformRiskReserve {
			break
		}
		switch r.Kind {
		case ledger.KindPrincipal:
			plus(&f.RepaidPrincipal, r.Credits)
		case ledger.KindInterest:
			plus(&f.RepaidInterest, r.Credits)
		case ledger.KindPenalty:
			plus(&f.RepaidPenalty, r.Credits)
		}
	case ledger.TypeCompensation:
		if r.Account == "user_available" {
			plus(&f.Compensated, r.Credits)
		}
	case ledger.TypeRecovery:
		if r.Account == "user_available" || r.Account == ledger.PlatformRiskReserve {
			plus(&f.Recovered, r.Credits)
		}
	case ledger.TypeRecharge:
		if r.Account == ledger.ExternalCards {
			plus(&f.Recharges, r.Debits)
		}
	case ledger.TypeWithdrawal:
		switch r.Account {
		case ledger.ExternalCards:
			plus(&f.Withdrawals, r.Credits)
		case ledger.PlatformFee:
			plus(&f.WithdrawalFees, r.Credits)
		}
	case ledger.TypeWithdrawalReversal:
		switch r.Account {
		case ledger.ExternalCards:
			plus(&f.WithdrawalReversals, r.Debits)
		case ledger.PlatformFee:
			f.WithdrawalFees = f.WithdrawalFees.Sub(r.Debits)
		}
	case ledger.TypeTransfer:
		switch r.Account {
		case "user_available":
			plus(&f.TransferVolume, r.Debits)
		case ledger.PlatformFee:
			plus(&f.TransferFees, r.Credits)
		}
	case ledger.TypeBonus:
		if r.Account == ledger.PlatformBonus {
			plus(&f.BonusPaid, r.Debits)
		}
	case ledger.TypeBonusTopUp:
		if r.Account == ledger.ExternalCards {
			plus(&f.BonusTopUps, r.Debits)
		}
	}
}

// Days are the reports of each date from..to that has come, oldest first
// (the console's charts and table).
func (s *Service) Days(ctx context.Context, from, to time.Time) ([]Day, error) {
	today, err := s.today(ctx)
	if err != nil {
		return nil, err
	}
	var out []Day
	for d := from; !d.After(to) && !d.After(today); d = d.AddDate(0, 0, 1) {
		f, err := Compute(ctx, s.q, d, d)
		if err != nil {
			return out, err
		}
		out = append(out, Day{Date: d, Figures: f})
	}
	return out, nil
}
