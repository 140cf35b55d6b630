package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim/simdb"
	"github.com/lendflow/lendflow/db"
)

const (
	jobWithdrawalComplete = "withdrawal_complete"
	jobWithdrawalReverse  = "withdrawal_reverse"
	jobCallback           = "callback"

	jobPending = "pending"
	jobDone    = "done"
	jobDropped = "dropped"
)

// work runs due jobs until ctx ends, sleeping until the next one is due, a
// kick, or a second, whichever comes first (the second catches a business
// date that a wall clock moved, and other processes' jobs).
func (s *Sim) work(ctx context.Context, wake <-chan struct{}) {
	for ctx.Err() == nil {
		failed := false
		for ctx.Err() == nil {
			ran, err := s.runJob(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("bank sim: job failed", "error", err)
				}
				failed = true
				break
			}
			if !ran {
				break
			}
		}
		wait := time.Second
		if next, err := s.nextDue(ctx); err == nil && !next.IsZero() && !failed {
			// A job due already but not claimable is another worker's right
			// now; that worker kicks us when it is done.
			if d := time.Until(next); d > 0 {
				wait = min(wait, d)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Idle reports whether every job due by now is done: withdrawals completed,
// the reversals of the bank's business date made, callbacks delivered or
// dropped. A callback waiting out its retry's backoff, and a reversal of a
// later business date, are not due yet. Tests wait for it where they would
// otherwise sleep and hope the bank had finished.
func (s *Sim) Idle(ctx context.Context) (bool, error) {
	next, err := s.nextDue(ctx)
	return next.IsZero() || next.After(time.Now()), err
}

func (s *Sim) nextDue(ctx context.Context) (time.Time, error) {
	today, err := s.today(ctx, s.q)
	if err != nil {
		return time.Time{}, err
	}
	next, err := s.q.JobNextDue(ctx, today)
	if errors.Is(err, db.ErrNotFound) {
		return time.Time{}, nil
	}
	return next, err
}

// runJob claims one due job and does it in the claiming transaction, so a job
// is done once even with several workers or processes.
func (s *Sim) runJob(ctx context.Context) (bool, error) {
	ran := false
	err := s.retryTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		today, err := s.today(ctx, q)
		if err != nil {
			return err
		}
		j, err := q.JobClaim(ctx, simdb.JobClaimParams{Now: time.Now(), Today: today})
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ran = true
		switch j.Kind {
		case jobWithdrawalComplete:
			err = s.completeWithdrawal(ctx, q, j.RequestNo, today)
		case jobWithdrawalReverse:
			_, err = s.reverseWithdrawal(ctx, q, j.RequestNo, today)
			var ref *refusal
			if errors.As(err, &ref) {
				// Reversed already (by ops), or never succeeded: nothing to do.
				err = nil
			}
		case jobCallback:
			if derr := s.deliver(ctx, j.Body); derr != nil {
				return q.JobRetry(ctx, simdb.JobRetryParams{ID: j.ID, DueAt: time.Now().Add(backoff(int(j.Attempts))), LastError: derr.Error()})
			}
		default:
			err = fmt.Errorf("unknown job kind %q", j.Kind)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", j.Kind, j.RequestNo, err)
		}
		return q.JobFinish(ctx, simdb.JobFinishParams{ID: j.ID, State: jobDone})
	})
	if ran && err == nil {
		s.kick()
	}
	return ran, err
}

// backoff between callback attempts: 100ms doubling to at most 30s. The bank
// keeps trying; a receiver that is down for long catches up by querying.
func backoff(attempts int) time.Duration {
	d := 100 * time.Millisecond
	for i := 0; i < attempts && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

func (s *Sim) completeWithdrawal(ctx context.Context, q *simdb.Queries, reqNo string, today time.Time) error {
	r, err := q.RequestGetForUpdate(ctx, reqNo)
	if err != nil {
		return err
	}
	if r.Status != string(bank.StatusProcessing) {
		return nil
	}
	if _, err := q.RequestSetStatus(ctx, simdb.RequestSetStatusParams{
		RequestNo: reqNo, FromStatus: string(bank.StatusProcessing), ToStatus: string(bank.StatusSucceeded),
	}); err != nil {
		return err
	}
	r.Status = string(bank.StatusSucceeded)
	if err := s.enqueueCallback(ctx, q, r, 1, today); err != nil {
		return err
	}
	if s.faults.hit(s.faults.get().WithdrawalReversal, pointReversal, reqNo) {
		next := today.AddDate(0, 0, 1)
		return q.JobInsert(ctx, simdb.JobInsertParams{
			Kind: jobWithdrawalReverse, RequestNo: reqNo, State: jobPending, DueAt: time.Now(), DueDate: &next,
		})
	}
	return nil
}

// reverseWithdrawal is 冲正: a succeeded withdrawal's amount comes back to
// the available balance on today's date from the card (item 0), and its fee
// from P-FEE (item 1): a reversed withdrawal costs the user nothing.
// Reversing a reversed withdrawal answers it again.
func (s *Sim) reverseWithdrawal(ctx context.Context, q *simdb.Queries, reqNo string, today time.Time) (simdb.Request, error) {
	r, err := q.RequestGetForUpdate(ctx, reqNo)
	if errors.Is(err, db.ErrNotFound) || (err == nil && r.Kind != kindWithdrawal) {
		return r, refuseNow(bank.CodeNotFound, "no withdrawal %s", reqNo)
	}
	if err != nil {
		return r, err
	}
	switch bank.Status(r.Status) {
	case bank.StatusReversed:
		return r, nil
	case bank.StatusSucceeded:
	default:
		return r, refuseNow(bank.CodeInvalidState, "withdrawal %s is %s; only a succeeded one can be reversed", reqNo, r.Status)
	}
	w, err := q.MovementGet(ctx, simdb.MovementGetParams{RequestNo: reqNo, Type: bank.MoveWithdrawal})
	if err != nil {
		return r, err
	}
	if _, err := lockAccounts(ctx, q, r.AccountNo, bank.AccountFee); err != nil {
		return r, err
	}
	if err := adjust(ctx, q, r.AccountNo, r.Amount.Add(r.Fee), zero); err != nil {
		return r, err
	}
	if err := move(ctx, q, reqNo, 0, bank.MoveWithdrawalReversal, w.ToAccount, r.AccountNo, r.Amount, "", "", today); err != nil {
		return r, err
	}
	if r.Fee.IsPositive() {
		if err := adjust(ctx, q, bank.AccountFee, r.Fee.Neg(), zero); err != nil {
			return r, err
		}
		if err := move(ctx, q, reqNo, 1, bank.MoveWithdrawalReversal, bank.AccountFee, r.AccountNo, r.Fee, "", "", today); err != nil {
			return r, err
		}
	}
	if _, err := q.RequestSetStatus(ctx, simdb.RequestSetStatusParams{
		RequestNo: reqNo, FromStatus: string(bank.StatusSucceeded), ToStatus: string(bank.StatusReversed),
	}); err != nil {
		return r, err
	}
	r.Status = string(bank.StatusReversed)
	return r, s.enqueueCallback(ctx, q, r, 2, today)
}

// enqueueCallback writes the callback into the outbox in the transaction that
// changed the result, so a result is never without its callback nor a
// callback without its result. The callback faults are decided here.
func (s *Sim) enqueueCallback(ctx context.Context, q *simdb.Queries, r simdb.Request, seq int, today time.Time) error {
	if s.cfg.CallbackURL == "" {
		return nil
	}
	body, err := json.Marshal(bank.Callback{
		RequestNo: r.RequestNo, Kind: r.Kind, Status: bank.Status(r.Status), Seq: seq,
		AccountNo: r.AccountNo, Amount: r.Amount, Fee: r.Fee, BusinessDate: today.Format(time.DateOnly),
		Code: r.Code, Message: r.Message,
	})
	if err != nil {
		return err
	}
	f := s.faults.get()
	key := fmt.Sprintf("%s#%d", r.RequestNo, seq)
	p := simdb.JobInsertParams{Kind: jobCallback, RequestNo: r.RequestNo, Body: body, State: jobPending, DueAt: time.Now()}
	if s.faults.hit(f.CallbackDrop, pointCbDrop, key) {
		// Kept as a record of what the platform never heard.
		p.State = jobDropped
		return q.JobInsert(ctx, p)
	}
	if s.faults.hit(f.CallbackDelay, pointCbDelay, key) {
		p.DueAt = p.DueAt.Add(f.CallbackDelayDuration)
	}
	if s.faults.hit(f.CallbackReorder, pointCbReorder, key) {
		p.DueAt = p.DueAt.Add(f.ReorderHold)
		p.Overtakable = true
	}
	if err := q.JobInsert(ctx, p); err != nil {
		return err
	}
	if s.faults.hit(f.CallbackDuplicate, pointCbDuplicate, key) {
		p.Overtakable = false
		return q.JobInsert(ctx, p)
	}
	return nil
}

// deliver posts one signed callback; anything but 2xx is tried again later.
func (s *Sim) deliver(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// Signed as it is sent, each try anew: a callback retried for hours is
	// fresh each time, and only the platform's window decides what is stale.
	now := time.Now().Unix()
	req.Header.Set(bank.CallbackTimestampHeader, strconv.FormatInt(now, 10))
	req.Header.Set(bank.SignatureHeader, bank.Sign(s.cfg.HMACSecret, now, body))
	resp, err := s.cbClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered HTTP %d", resp.StatusCode)
	}
	return nil
}
