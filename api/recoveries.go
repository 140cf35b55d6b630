package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/recovery"
	"github.com/lendflow/lendflow/workflows"
)

func (s *Server) recoveryRoutes(r chi.Router) {
	r.With(s.requireRole(lending.RoleOps), s.idempotent).Post("/v1/ops/loans/{id}/recoveries", s.recoveryCreate)
}

type recoveryRequest struct {
	Amount string `json:"amount"`
	Note   string `json:"note"`
}

type distributedItem struct {
	UserID *int64 `json:"user_id"` // null: the risk reserve
	Holder string `json:"holder"`  // investor | guarantor | reserve
	Amount string `json:"amount"`
}

type recoveryResponse struct {
	ID          int64             `json:"id"`
	Amount      string            `json:"amount"`
	Status      string            `json:"status"`
	Distributed []distributedItem `json:"distributed"`
}

// recoveryCreate records money recovered after a write-off (docs/rules.md
// "write-off"): debited from the borrower's available balance and
// distributed to the claim holders pro rata to what each lost, by a
// workflow of its own (workflows.RecoveryWorkflow). The recovery row carries
// the ops user's Idempotency-Key, written with its audit entry, so a retry
// answers that recovery and never makes a second. 201 once distributed; 202
// processing when the bank has not answered within the wait.
func (s *Server) recoveryCreate(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req recoveryRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	amount, fe := parseMoney("amount", req.Amount)
	var fields []FieldError
	if fe != nil {
		fields = append(fields, *fe)
	}
	note := strings.TrimSpace(req.Note)
	if note == "" || len(note) > 2000 {
		fields = append(fields, FieldError{Field: "note", Message: "required, at most 2000 bytes"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	if loan.Status != lending.StatusWrittenOff {
		s.writeError(w, r, errs.New(errs.InvalidState, "the loan is %s: recoveries follow a write-off", loan.Status))
		return
	}
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	ctx := context.WithoutCancel(r.Context()) // the recovery goes on if the client hangs up
	me, _ := userFrom(ctx)
	key := idempotencyKey(ctx)
	var keyp *string
	if key != "" {
		keyp = &key
	}
	var rec dbq.Recovery
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if keyp != nil {
			prev, err := q.RecoveryGetByKey(ctx, dbq.RecoveryGetByKeyParams{OpsUserID: me.ID, IdempotencyKey: keyp})
			if err == nil {
				if !prev.Amount.Equal(amount) || prev.LoanID != loan.ID {
					return errs.New(errs.IdempotencyKeyReused, "this Idempotency-Key recorded recovery %d", prev.ID)
				}
				rec = prev
				return nil
			}
			if !errors.Is(err, db.ErrNotFound) {
				return err
			}
		}
		var err error
		if rec, err = q.RecoveryInsert(ctx, dbq.RecoveryInsertParams{LoanID: loan.ID, Amount: amount, Note: note,
			OpsUserID: me.ID, BusinessDate: today, IdempotencyKey: keyp}); err != nil {
			return err
		}
		// The holders' shares are reserved before anything reaches the bank,
		// under a lock on the loan's losses: recoveries that meet are admitted
		// one at a time, and one beyond what is owed is refused here.
		if _, err := recovery.Reserve(ctx, q, rec); err != nil {
			return err
		}
		if err := borrowerCovers(ctx, tx, loan, amount); err != nil {
			return err
		}
		return s.audit(ctx, q, audit.Recovery, audit.Loan(loan.ID), amount.StringFixed(2)+": "+note)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.runRecovery(ctx, rec)
	switch {
	case errors.Is(err, errStillRunning):
		w.Header().Set("Location", "/v1/loans/"+decimal.NewFromInt(loan.ID).String())
		writeJSON(w, http.StatusAccepted, recoveryResponse{ID: rec.ID, Amount: fmtMoney(rec.Amount), Status: "processing", Distributed: []distributedItem{}})
	case err != nil:
		s.writeError(w, r, err)
	case !res.Succeeded && res.Code == errs.InsufficientBalance:
		// The balance moved between the check and the bank's debit.
		sum, err := ledger.AccountSummary(ctx, s.Pool, loan.BorrowerID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, borrowerShort(sum.Available))
	case !res.Succeeded:
		s.writeError(w, r, errs.New(res.Code, "%s", res.Detail))
	default:
		out := recoveryResponse{ID: rec.ID, Amount: fmtMoney(res.Amount), Status: "succeeded", Distributed: []distributedItem{}}
		for _, d := range res.Distributed {
			item := distributedItem{Holder: d.Holder, Amount: fmtMoney(d.Amount)}
			if d.UserID != 0 {
				id := d.UserID
				item.UserID = &id
			}
			out.Distributed = append(out.Distributed, item)
		}
		writeJSON(w, http.StatusCreated, out)
	}
}

// borrowerCovers refuses a recovery the borrower's available balance cannot
// cover, before anything reaches the bank.
func borrowerCovers(ctx context.Context, tx pgx.Tx, loan dbq.Loan, amount decimal.Decimal) error {
	sum, err := ledger.AccountSummary(ctx, tx, loan.BorrowerID)
	if err != nil {
		return err
	}
	if sum.Available.LessThan(amount) {
		return borrowerShort(sum.Available)
	}
	return nil
}

// borrowerShort refuses a recovery the borrower's available balance does not
// cover, with that balance: the figure ops need is the borrower's, not their
// own, which the problem's figures would otherwise add.
func borrowerShort(available decimal.Decimal) error {
	return problemFor(errs.New(errs.InsufficientBalance, "the borrower's available balance does not cover the recovery")).
		With("available", fmtMoney(available))
}

// runRecovery starts the recovery's workflow, once (its ID derives from the
// recovery), and waits at most UpdateWait for its answer.
func (s *Server) runRecovery(ctx context.Context, rec dbq.Recovery) (activities.RecoverResult, error) {
	wait := s.UpdateWait
	if wait <= 0 {
		wait = DefaultUpdateWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	id := workflows.RecoveryWorkflowID(rec.LoanID, rec.ID)
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary: "recovery " + decimal.NewFromInt(rec.ID).String() + " on loan " + decimal.NewFromInt(rec.LoanID).String() + ": " + fmtMoney(rec.Amount),
	}, workflows.RecoveryWorkflowName, workflows.RecoveryInput{LoanID: rec.LoanID, RecoveryID: rec.ID})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		if ctx.Err() != nil {
			return activities.RecoverResult{}, errStillRunning
		}
		return activities.RecoverResult{}, err
	}
	var res activities.RecoverResult
	if err := s.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		var ae *temporal.ApplicationError
		switch {
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
			return res, errStillRunning
		case errors.As(err, &ae) && knownCode(ae.Type()):
			// A refusal the recovery's step ended with is answered as the
			// refusal it is, never as a 500.
			return res, errs.New(ae.Type(), "%s", ae.Message())
		}
		return res, err
	}
	return res, nil
}
