package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Request states in bank_requests (the platform's own record of what it asked).
const (
	requestSent      = "sent"      // the intent is stored and the batch may have reached the bank
	requestSucceeded = "succeeded" // the bank did it and the platform has applied it
	requestFailed    = "failed"    // the bank refused it; nothing moved
)

// sendOutcome is how one bank batch of a loan step ended.
type sendOutcome int

const (
	outcomeApplied  sendOutcome = iota // an earlier attempt of the step applied it: nothing to do
	outcomeDone                        // the bank did it now: apply the plan
	outcomeRefused                     // the bank refused it: nothing moved
	outcomeDeclined                    // the plan itself declined (no money to move): nothing was sent
)

// intent is what an attempt stores before it asks the bank: the exact batch,
// and the plan the step applies once the bank has done it.
type intent[P any] struct {
	Batch bank.BatchRequest
	Plan  P
}

// sendBatch sends one bank batch of a loan step under reqNo, deciding it once.
//
// The first attempt plans the step (plan may decline, sending nothing), stores
// the batch and the plan as the request's intent, then asks the bank. An
// attempt retried after that (a timeout, a crash, the worker killed) does not
// plan again: it asks the bank what became of the number first, and sends the
// stored batch only if the bank has no record of it. So a changed balance or
// authorization between attempts cannot turn a payment the bank made into
// "not paid" followed by a second request number, and the bank never sees one
// number with two contents. After the bank answers, the caller applies the
// plan and records the request succeeded (or failed) in one transaction.
func sendBatch[P any](ctx context.Context, a *Activities, reqNo, kind string,
	plan func() (bank.BatchRequest, P, bool, error)) (sendOutcome, P, bank.Result, string, error) {
	var zero P
	var in intent[P]
	rec, err := a.q.BankRequestGet(ctx, reqNo)
	switch {
	case err == nil && rec.Status == requestSucceeded:
		var applied P
		return outcomeApplied, applied, bank.Result{}, "", json.Unmarshal(rec.Detail, &applied)
	case err == nil && rec.Status == requestFailed:
		var code string
		_ = json.Unmarshal(rec.Detail, &code)
		return outcomeRefused, zero, bank.Result{}, code, nil
	case err == nil:
		if err := json.Unmarshal(rec.Detail, &in); err != nil {
			return 0, zero, bank.Result{}, "", err
		}
		if res, qerr := a.bank.Query(ctx, reqNo); qerr == nil && res.Status != bank.StatusProcessing {
			ok, code, err := bank.Outcome(res, nil)
			if err != nil {
				return 0, zero, bank.Result{}, "", err
			}
			if ok {
				return outcomeDone, in.Plan, res, "", nil
			}
			return outcomeRefused, in.Plan, res, code, nil
		} else if qerr != nil && !bank.IsCode(qerr, bank.CodeNotFound) {
			return 0, zero, bank.Result{}, "", qerr // unknown: ask again on the next attempt
		}
	case errors.Is(err, db.ErrNotFound):
		batch, p, send, err := plan()
		if err != nil || !send {
			return outcomeDeclined, p, bank.Result{}, "", err
		}
		in = intent[P]{Batch: batch, Plan: p}
		detail, err := json.Marshal(in)
		if err != nil {
			return 0, zero, bank.Result{}, "", err
		}
		if err := a.q.BankRequestRecord(ctx, dbq.BankRequestRecordParams{RequestNo: reqNo, Kind: kind, Status: requestSent, Detail: detail}); err != nil {
			return 0, zero, bank.Result{}, "", err
		}
	default:
		return 0, zero, bank.Result{}, "", err
	}
	res, err := a.bank.Batch(ctx, in.Batch)
	ok, code, err := bank.Outcome(res, err)
	switch {
	case err != nil:
		return 0, zero, bank.Result{}, "", err
	case !ok:
		return outcomeRefused, in.Plan, res, code, nil
	}
	return outcomeDone, in.Plan, res, "", nil
}

// settle records the request's final state in the transaction that applies it.
func settle(ctx context.Context, q *dbq.Queries, reqNo, kind string, ok bool, detail any) error {
	status := requestSucceeded
	if !ok {
		status = requestFailed
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("bank request %s: %w", reqNo, err)
	}
	return q.BankRequestRecord(ctx, dbq.BankRequestRecordParams{RequestNo: reqNo, Kind: kind, Status: status, Detail: raw})
}
