package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/transfer"
)

// Transfers carries debt-transfer requests to a loan's workflow
// (transfer.Loans): an update under the request's ID, waited for up to Wait.
type Transfers struct {
	Client client.Client
	// Wait bounds the wait for an answer; zero is 10 s. Past it the request
	// answers transfer.ErrProcessing: the loan has it, and the same ID asked
	// again answers its outcome.
	Wait time.Duration
}

var transferUpdates = map[transfer.Kind]string{
	transfer.KindOffer:  UpdateOfferTransfer,
	transfer.KindBuy:    UpdateBuyTransfer,
	transfer.KindCancel: UpdateCancelTransfer,
}

// Send implements transfer.Loans.
func (t Transfers) Send(ctx context.Context, loanID int64, kind transfer.Kind, updateID string,
	r transfer.Request) (transfer.Reply, error) {
	wait := t.Wait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	// The caller may hang up: the request is sent and waited for all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	var reply transfer.Reply
	h, err := t.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: updateID, WorkflowID: LoanWorkflowID(loanID), UpdateName: transferUpdates[kind],
		Args: []any{TransferRequest(r)}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &reply)
	}
	var ae *temporal.ApplicationError
	var nf *serviceerror.NotFound
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case err == nil:
		return reply, nil
	case errors.As(err, &ae) && ae.Type() != "":
		return reply, errs.New(ae.Type(), "%s", ae.Message())
	case errors.As(err, &nf) && kind == transfer.KindOffer:
		// The loan's workflow has ended: repaid or written off, no claim of it
		// is for sale.
		return reply, errs.New(errs.TransferNotAllowed, "%s", transfer.ReasonNotRepaying)
	case errors.As(err, &nf):
		return reply, errs.New(errs.TransferNotOpen, "the loan is closed")
	case ctx.Err() != nil || errors.As(err, &timeout):
		return reply, transfer.ErrProcessing
	}
	return reply, errs.New(errs.Unavailable, "the loan's workflow did not answer: %v", err)
}
