package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// disbursePlan is everything a disbursement applies once the bank has made
// the batch: stored with the request before the bank is asked.
type disbursePlan struct {
	Entry    ledger.Entry
	Fee      decimal.Decimal
	Reserve  decimal.Decimal
	Schedule []money.Installment
	Bids     []planBid
	// Principal[k][i] and Interest[k][i] are bid i's shares of installment k+1.
	Principal [][]decimal.Decimal
	Interest  [][]decimal.Decimal
}

type planBid struct {
	ID, InvestorID int64
	Amount         decimal.Decimal
}

// Disburse takes an approved loan from full-tender review through its one
// disbursement batch (放款): every frozen bid moves investor → borrower, the
// service fee borrower → fee account and the risk-reserve contribution
// borrower → risk-reserve account (docs/rules.md "disbursement"). On success the
// ledger entry, the schedule, each claim's planned shares, the repayment
// reminders and the first due date as the loan's next dated step are written
// in one transaction. A failed batch moved nothing; the loan waits in
// disbursing for ops to retry under a new attempt number.
func (a *Activities) Disburse(ctx context.Context, in DisburseInput) (DisburseResult, error) {
	stop := heartbeat(ctx)
	defer stop()
	if err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
		loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
		if err != nil || loan.Status == lending.StatusRepaying {
			return err
		}
		return newRows(q, in.LoanID, in.Seq, in.Today).move(ctx,
			[]lending.Status{lending.StatusFullReview, lending.StatusDisbursing}, lending.StatusDisbursing, "%s", in.Note)
	}); err != nil {
		return DisburseResult{}, classify(err)
	}
	reqNo := bank.Disbursement(in.LoanID, in.Attempt)
	outcome, plan, res, code, err := sendBatch(ctx, a, reqNo, "disbursement", func() (bank.BatchRequest, disbursePlan, bool, error) {
		b, p, err := a.planDisbursement(ctx, in, reqNo)
		return b, p, true, err
	})
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	switch outcome {
	case outcomeApplied:
		// Applied by an earlier attempt: its cash coupons may not be paid yet.
		if err := a.payBonuses(ctx, in.LoanID, in.Today); err != nil {
			return DisburseResult{}, classify(err)
		}
		return a.disbursed(ctx, in.LoanID)
	case outcomeRefused:
		err := a.inTx(ctx, func(q *dbq.Queries, _ pgx.Tx) error {
			r := newRows(q, in.LoanID, in.Seq+1, in.Today) // after the move's row
			if err := r.add(ctx, lending.StatusDisbursing, "disbursement batch %d failed (%s); waiting for ops to retry", in.Attempt, code); err != nil {
				return err
			}
			if err := publish(ctx, q, in.LoanID, in.Seq, nil); err != nil {
				return err
			}
			return settle(ctx, q, reqNo, "disbursement", false, code)
		})
		return DisburseResult{Succeeded: false, Code: code}, classify(err)
	}
	err = a.inTx(ctx, func(q *dbq.Queries, tx pgx.Tx) error {
		return a.applyDisbursement(ctx, q, tx, in, plan, res.Day(in.Today))
	})
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	// The cash coupons are paid in the disbursement's step, once it is booked.
	if err := a.payBonuses(ctx, in.LoanID, in.Today); err != nil {
		return DisburseResult{}, classify(err)
	}
	return a.disbursed(ctx, in.LoanID)
}

// planDisbursement works out the batch and what it books, from the frozen
// bids and the loan's terms.
func (a *Activities) planDisbursement(ctx context.Context, in DisburseInput, reqNo string) (bank.BatchRequest, disbursePlan, error) {
	var p disbursePlan
	loan, err := a.q.LoanGet(ctx, in.LoanID)
	if err != nil {
		return bank.BatchRequest{}, p, err
	}
	if loan.Grade == nil || loan.AnnualRate == nil {
		return bank.BatchRequest{}, p, errs.New(errs.InvalidState, "loan %d has no grade or rate", loan.ID)
	}
	bids, err := a.q.BidListByLoanStatus(ctx, dbq.BidListByLoanStatusParams{LoanID: loan.ID, Status: lending.BidFrozen})
	if err != nil {
		return bank.BatchRequest{}, p, err
	}
	ids := []int64{loan.BorrowerID}
	for _, b := range bids {
		ids = append(ids, b.InvestorID)
		p.Bids = append(p.Bids, planBid{ID: b.ID, InvestorID: b.InvestorID, Amount: b.Amount})
	}
	accounts, err := a.accountNos(ctx, ids)
	if err != nil {
		return bank.BatchRequest{}, p, err
	}
	if p.Fee, err = money.ServiceFee(money.Grade(*loan.Grade), loan.Amount); err != nil {
		return bank.BatchRequest{}, p, err
	}
	p.Reserve = money.RiskReserve(loan.Amount)

	borrower := accounts[loan.BorrowerID]
	batch := bank.BatchRequest{RequestNo: reqNo, Purpose: "disbursement"}
	p.Entry = ledger.Entry{RequestNo: reqNo, Type: ledger.TypeDisbursement, Ref: loanRef(loan.ID)}
	raised := decimal.Zero
	for _, b := range bids {
		raised = raised.Add(b.Amount)
		batch.Transfers = append(batch.Transfers, bank.Transfer{
			From: accounts[b.InvestorID], To: borrower, Amount: b.Amount, FreezeRequestNo: bank.BidFreeze(b.ID),
		})
		p.Entry.Postings = append(p.Entry.Postings,
			ledger.Posting{Account: ledger.UserFrozen(b.InvestorID), Amount: b.Amount.Neg(), Counterpart: userRef(loan.BorrowerID)})
	}
	if !raised.Equal(loan.Amount) {
		return bank.BatchRequest{}, p, errs.New(errs.InvalidState, "loan %d: frozen bids %s ≠ amount %s", loan.ID, raised, loan.Amount)
	}
	batch.Transfers = append(batch.Transfers,
		bank.Transfer{From: borrower, To: bank.AccountFee, Amount: p.Fee},
		bank.Transfer{From: borrower, To: bank.AccountRiskReserve, Amount: p.Reserve})
	// The borrower receives the gross amount and pays the fee and the reserve
	// out of it, as the bank's batch does: three lines of the borrower's fund
	// log (docs/money.md "Fund log"), not one net line.
	borrowerAcct := ledger.UserAvailable(loan.BorrowerID)
	p.Entry.Postings = append(p.Entry.Postings,
		ledger.Posting{Account: borrowerAcct, Amount: loan.Amount, Counterpart: "investors"},
		ledger.Posting{Account: borrowerAcct, Amount: p.Fee.Neg(), Counterpart: ledger.PlatformFee, Kind: ledger.KindServiceFee},
		ledger.Posting{Account: ledger.PlatformFee, Amount: p.Fee, Counterpart: userRef(loan.BorrowerID), Kind: ledger.KindServiceFee},
		ledger.Posting{Account: borrowerAcct, Amount: p.Reserve.Neg(), Counterpart: ledger.PlatformRiskReserve, Kind: ledger.KindRiskReserve},
		ledger.Posting{Account: ledger.PlatformRiskReserve, Amount: p.Reserve, Counterpart: userRef(loan.BorrowerID), Kind: ledger.KindRiskReserve})

	// The schedule runs from the disbursement date (docs/rules.md "Money rules").
	if p.Schedule, err = money.Schedule(loan.Amount, *loan.AnnualRate, int(loan.TermMonths), money.Method(loan.RepaymentMethod), in.Today); err != nil {
		return bank.BatchRequest{}, p, err
	}
	principals, interests := make([]decimal.Decimal, len(p.Schedule)), make([]decimal.Decimal, len(p.Schedule))
	for k, inst := range p.Schedule {
		principals[k], interests[k] = inst.Principal, inst.Interest
	}
	weights := make([]decimal.Decimal, len(bids))
	for i, b := range bids {
		weights[i] = b.Amount
	}
	p.Principal, p.Interest = money.ClaimShares(principals, interests, weights)
	return batch, p, nil
}

// applyDisbursement books a disbursement the bank has made.
func (a *Activities) applyDisbursement(ctx context.Context, q *dbq.Queries, tx pgx.Tx, in DisburseInput, p disbursePlan, bankDate time.Time) error {
	loan, err := q.LoanGetForUpdate(ctx, in.LoanID)
	if err != nil || loan.Status == lending.StatusRepaying {
		return err
	}
	p.Entry.BusinessDate = bankDate
	if _, err := ledger.Post(ctx, tx, p.Entry); err != nil {
		return err
	}
	for k, inst := range p.Schedule {
		if err := q.InstallmentInsert(ctx, dbq.InstallmentInsertParams{
			LoanID: loan.ID, No: int32(inst.No), DueDate: inst.DueDate, Principal: inst.Principal, Interest: inst.Interest,
		}); err != nil {
			return err
		}
		for i, b := range p.Bids {
			if err := q.InstallmentShareInsert(ctx, dbq.InstallmentShareInsertParams{
				LoanID: loan.ID, No: int32(inst.No), BidID: b.ID, InvestorID: b.InvestorID,
				Principal: p.Principal[k][i], Interest: p.Interest[k][i],
			}); err != nil {
				return err
			}
		}
		// The pre-due reminder is planned now, for every installment, and
		// withdrawn if the installment closes first (docs/collection.md).
		if err := remind(ctx, q, loan, inst); err != nil {
			return err
		}
	}
	// The bids' coupons are used: cash due now, interest planned per
	// installment on each claim's principal shares (docs/coupons.md).
	if err := coupons.Disbursed(ctx, q, loan.ID, money.Method(loan.RepaymentMethod), int(loan.TermMonths),
		couponClaims(p), dueDates(p.Schedule), in.Today); err != nil {
		return err
	}
	// Each bid's claim is its bidder's from today (docs/transfer.md "Holdings").
	if err := claims.OpenHoldings(ctx, q, loan.ID, in.Today); err != nil {
		return err
	}
	if err := q.BidSetDisbursed(ctx, loan.ID); err != nil {
		return err
	}
	if err := q.LoanSetDisbursed(ctx, dbq.LoanSetDisbursedParams{ID: loan.ID, DisbursedOn: &in.Today}); err != nil {
		return err
	}
	r := newRows(q, in.LoanID, in.Seq+1, in.Today) // after the move to disbursing
	if err := r.add(ctx, lending.StatusRepaying, "disbursed %s (fee %s, risk reserve %s); %d installments, the first due %s",
		loan.Amount.StringFixed(2), p.Fee.StringFixed(2), p.Reserve.StringFixed(2), len(p.Schedule), dateOnly(p.Schedule[0].DueDate)); err != nil {
		return err
	}
	if err := a.tellDisbursed(ctx, q, loan, p, in.Today); err != nil {
		return err
	}
	// The first dated step of a new schedule is the first due date's auto-debit.
	if err := publish(ctx, q, loan.ID, in.Seq, &p.Schedule[0].DueDate); err != nil {
		return err
	}
	return settle(ctx, q, p.Entry.RequestNo, "disbursement", true, p)
}

// couponClaims is each bid's claim as the coupons' bonuses need it.
func couponClaims(p disbursePlan) []coupons.Claim {
	out := make([]coupons.Claim, len(p.Bids))
	for i, b := range p.Bids {
		out[i] = coupons.Claim{BidID: b.ID, InvestorID: b.InvestorID, Amount: b.Amount, Principal: make([]decimal.Decimal, len(p.Schedule))}
		for k := range p.Schedule {
			out[i].Principal[k] = p.Principal[k][i]
		}
	}
	return out
}

func dueDates(s []money.Installment) []time.Time {
	out := make([]time.Time, len(s))
	for k, in := range s {
		out[k] = in.DueDate
	}
	return out
}

// payBonuses pays the loan's coupon payments its step has made due
// (coupons.PayDue): after the step's commit, and again by a retried attempt
// that finds the step applied, under the same request numbers.
func (a *Activities) payBonuses(ctx context.Context, loanID int64, today time.Time) error {
	return coupons.PayDue(ctx, a.pool, a.bank, loanID, today, a.log)
}

// tellDisbursed tells the borrower what reached their account and when the
// first installment is due, and each investor that their bids are now a
// claim on the loan.
func (a *Activities) tellDisbursed(ctx context.Context, q *dbq.Queries, loan dbq.Loan, p disbursePlan, today time.Time) error {
	net := loan.Amount.Sub(p.Fee).Sub(p.Reserve)
	first := p.Schedule[0]
	due := first.Principal.Add(first.Interest)
	if err := notify(ctx, q, notice{
		UserID: loan.BorrowerID, Kind: lending.NoticeDisbursed, LoanID: loan.ID, Amount: &net, On: today, At: a.contactAt(today),
		Dedupe: fmt.Sprintf("loan-%d-disbursed", loan.ID),
		Message: fmt.Sprintf("Loan %d of %s is disbursed: %s reached your account (service fee %s and risk reserve %s deducted). Installment 1, %s, is due on %s.",
			loan.ID, loan.Amount.StringFixed(2), net.StringFixed(2), p.Fee.StringFixed(2), p.Reserve.StringFixed(2), due.StringFixed(2), dateOnly(first.DueDate)),
	}); err != nil {
		return err
	}
	lent := map[int64]decimal.Decimal{}
	var investors []int64
	for _, b := range p.Bids {
		if _, ok := lent[b.InvestorID]; !ok {
			investors = append(investors, b.InvestorID)
		}
		lent[b.InvestorID] = lent[b.InvestorID].Add(b.Amount)
	}
	for _, id := range investors {
		amount := lent[id]
		if err := notify(ctx, q, notice{
			UserID: id, Kind: lending.NoticeDisbursed, LoanID: loan.ID, Amount: &amount, On: today, At: a.stamp(today),
			Dedupe: fmt.Sprintf("loan-%d-disbursed-user-%d", loan.ID, id),
			Message: fmt.Sprintf("Loan %d is disbursed: the %s you lent is now your claim, repaid over %d installments from %s.",
				loan.ID, amount.StringFixed(2), len(p.Schedule), dateOnly(first.DueDate)),
		}); err != nil {
			return err
		}
	}
	return nil
}

// disbursed answers from the stored schedule, so a retry after the commit
// returns what the first attempt did.
func (a *Activities) disbursed(ctx context.Context, loanID int64) (DisburseResult, error) {
	insts, err := a.q.InstallmentList(ctx, loanID)
	if err != nil {
		return DisburseResult{}, classify(err)
	}
	res := DisburseResult{Succeeded: true}
	for _, i := range insts {
		res.Schedule = append(res.Schedule, Due{No: int(i.No), DueDate: i.DueDate, Amount: i.Principal.Add(i.Interest)})
	}
	return res, nil
}

// accountNos maps users to their custody account numbers; a user without one
// cannot take part in a money movement.
func (a *Activities) accountNos(ctx context.Context, ids []int64) (map[int64]string, error) {
	rows, err := a.q.UserAccountNos(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		if r.CustodyAccountNo == nil {
			return nil, errs.New(errs.NoCustodyAccount, "user %d has no custody account", r.ID)
		}
		out[r.ID] = *r.CustodyAccountNo
	}
	return out, nil
}

// remind plans the pre-due reminder of one installment (docs/rules.md "contact"):
// to the borrower, on its business date from 08:00 platform time.
func remind(ctx context.Context, q *dbq.Queries, loan dbq.Loan, inst money.Installment) error {
	on := lending.ReminderOn(inst.DueDate)
	amount := inst.Principal.Add(inst.Interest)
	return notify(ctx, q, notice{
		UserID: loan.BorrowerID, Kind: lending.NoticeReminder, LoanID: loan.ID, Installment: inst.No, Amount: &amount, On: on,
		Dedupe:  fmt.Sprintf("loan-%d-installment-%d-reminder", loan.ID, inst.No),
		Message: fmt.Sprintf("Installment %d of loan %d, %s, is due on %s.", inst.No, loan.ID, amount.StringFixed(2), dateOnly(inst.DueDate)),
	})
}
