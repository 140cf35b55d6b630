package loans

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/users"
	"github.com/lendflow/lendflow/workflows"
)

// DefaultUpdateWait is how long a request waits on a loan's workflow (ops
// decisions, repayment by hand, cancel, disbursement retry, the guarantor's
// answer, a recovery) before it answers ErrStillRunning: nobody waits blind
// on a workflow that is slow or whose worker is down.
const DefaultUpdateWait = 10 * time.Second

// ErrStillRunning: the workflow did not answer within the update wait. The
// request goes on; the same request sent again under its key answers its
// outcome once there is one (the API answers 202 with the loan to poll).
var ErrStillRunning = errors.New("loans: the request is still running")

// Step is an ops decision's step: the update the workflow takes it as.
type Step string

// Steps ops decide.
const (
	DueDiligence     Step = workflows.UpdateDueDiligence
	FullTenderReview Step = workflows.UpdateFullTenderReview
	WriteOff         Step = workflows.UpdateWriteOff
)

// Decision is ops' decision at a step. Grade and AnnualRate change the
// loan's terms at due diligence only; zero keeps them.
type Decision struct {
	Decision   lending.Decision // approve | reject
	Grade      string           // "": keep
	AnnualRate *decimal.Decimal // nil: keep (or the new grade's rate)
	Note       string           // ops' working text, never shown to the borrower
}

// audited are the loan updates ops send, by the action each is.
var audited = map[string]audit.Action{
	workflows.UpdateDueDiligence:     audit.DueDiligence,
	workflows.UpdateFullTenderReview: audit.FullTenderReview,
	workflows.UpdateWriteOff:         audit.WriteOff,
	workflows.UpdateRetryDisbursal:   audit.DisbursementRetry,
}

func (s *service) Decide(ctx context.Context, ops users.User, loan Loan, step Step, d Decision, key string) (lending.Status, error) {
	today, err := s.today(ctx)
	if err != nil {
		return "", err
	}
	in := workflows.Decision{Decision: d.Decision, Grade: d.Grade, AnnualRate: d.AnnualRate, Note: d.Note, Today: today}
	var reply workflows.StatusReply
	if err := s.update(ctx, ops, key, loan, string(step), in, &reply); err != nil {
		return "", err
	}
	s.recordAudit(ctx, ops, audited[string(step)], loan.ID, decisionNote(d))
	return reply.Status, nil
}

// decisionNote is what the audit log keeps of a decision: the decision,
// any new grade or rate, and the ops user's note.
func decisionNote(d Decision) string {
	out := string(d.Decision)
	if d.Grade != "" {
		out += " grade " + d.Grade
	}
	if d.AnnualRate != nil {
		out += " rate " + d.AnnualRate.String()
	}
	if d.Note != "" {
		out += ": " + d.Note
	}
	return out
}

func (s *service) Cancel(ctx context.Context, borrower users.User, loan Loan, key string) (lending.Status, error) {
	return s.dateUpdate(ctx, borrower, loan, workflows.UpdateCancel, key)
}

func (s *service) RetryDisbursement(ctx context.Context, ops users.User, loan Loan, key string) (lending.Status, error) {
	return s.dateUpdate(ctx, ops, loan, workflows.UpdateRetryDisbursal, key)
}

// dateUpdate sends an update that carries only the business date (cancel,
// disbursement retry) and, for an ops action, records it in the audit log
// once the workflow has taken it.
func (s *service) dateUpdate(ctx context.Context, caller users.User, loan Loan, name, key string) (lending.Status, error) {
	today, err := s.today(ctx)
	if err != nil {
		return "", err
	}
	var reply workflows.StatusReply
	if err := s.update(ctx, caller, key, loan, name, workflows.TodayRequest{Today: today}, &reply); err != nil {
		return "", err
	}
	if action, ok := audited[name]; ok {
		s.recordAudit(ctx, caller, action, loan.ID, "status "+string(reply.Status))
	}
	return reply.Status, nil
}

// Repayment is what a repayment by hand paid.
type Repayment struct {
	Amount decimal.Decimal
	Status string
}

func (s *service) Repay(ctx context.Context, borrower users.User, loan Loan, kind lending.RepayKind, key string) (Repayment, error) {
	today, err := s.today(ctx)
	if err != nil {
		return Repayment{}, err
	}
	var reply workflows.RepayReply
	if err := s.update(ctx, borrower, key, loan, workflows.UpdateRepay, workflows.RepayRequest{Kind: kind, Today: today}, &reply); err != nil {
		return Repayment{}, err
	}
	return Repayment{Amount: reply.Amount, Status: reply.Status}, nil
}

func (s *service) AnswerGuarantee(ctx context.Context, guarantor users.User, loan Loan, d lending.Decision, key string) (lending.Status, error) {
	if d == lending.Accept && guarantor.CustodyAccountNo == nil {
		return "", errs.New(errs.NoCustodyAccount, "open a guarantor custody account before accepting")
	}
	today, err := s.today(ctx)
	if err != nil {
		return "", err
	}
	var reply workflows.StatusReply
	in := workflows.GuaranteeDecision{Decision: d, GuarantorID: guarantor.ID, Today: today}
	if err := s.update(ctx, guarantor, key, loan, workflows.UpdateGuarantee, in, &reply); err != nil {
		return "", err
	}
	return reply.Status, nil
}

// update sends an update to the loan's workflow and waits for its answer, at
// most the update wait, turning the workflow's refusals back into domain
// errors; past the wait it answers ErrStillRunning.
//
// The update's ID derives from the caller and their Idempotency-Key
// (updateID), so the same request sent again is the same update: Temporal
// runs it once and answers its outcome again, so a retried repayment cannot
// pay the next installment too. Without a key each request is a new update.
func (s *service) update(ctx context.Context, caller users.User, key string, loan Loan, name string, arg, reply any) error {
	// The client may hang up: the update is sent and waited for all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.wait)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:   updateID(name, caller.ID, key),
		WorkflowID: loan.WorkflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, reply)
	}
	var nf *serviceerror.NotFound
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case err == nil:
		return nil
	case refusal(err) != nil:
		return refusal(err)
	case errors.As(err, &nf):
		return errs.New(errs.InvalidState, "the loan is %s", loan.Status)
	case ctx.Err() != nil || errors.As(err, &timeout):
		return ErrStillRunning
	}
	return err
}

// refusal is the domain refusal a workflow's (or its step's) application
// error carries, or nil: an application error whose type is no refusal code
// (a panic, a timeout) is no refusal to show a client.
func refusal(err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && errs.Known(ae.Type()) {
		return errs.New(ae.Type(), "%s", ae.Message())
	}
	return nil
}

// updateID names an update by who sent it and their Idempotency-Key:
// <update name>-<user id>-<first 16 hex digits of sha256(key)>, for example
// repay-12-9f86d081884c7d65. The key is hashed so that no client text lands
// in workflow histories. No key: "", and the SDK makes a fresh ID.
func updateID(name string, callerID int64, key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s-%d-%s", name, callerID, hex.EncodeToString(sum[:])[:16])
}

// recordAudit records an ops action whose effect is already done outside
// the database (a Temporal update). The client has its answer coming either
// way; a record that fails is logged loudly, with everything it would have
// said.
func (s *service) recordAudit(ctx context.Context, ops users.User, action audit.Action, loanID int64, note string) {
	e := audit.Entry{OpsUserID: ops.ID, Action: action, Target: audit.Loan(loanID), Note: note}
	if _, err := audit.Record(context.WithoutCancel(ctx), s.q, e); err != nil {
		logging.From(ctx, s.log).Error("audit record lost", "ops_user_id", ops.ID, "action", action, "target", e.Target, "note", note, "error", err)
	}
}
