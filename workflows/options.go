package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/errs"
)

// Domain refusals are final; every other failure (database restarting, bank
// 5xx, timeouts) is retried, because money steps must eventually settle and the
// activities are idempotent by request number and step number.
var nonRetryable = []string{
	errs.InvalidState, errs.NotFound, errs.ValidationFailed, errs.Conflict,
	errs.InsufficientBalance, errs.FourFactorMismatch,
}

// dbCallOptions: short work against PostgreSQL alone.
var dbCallOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        500 * time.Millisecond,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: nonRetryable,
	},
}

// bankCallOptions: steps that call the custody bank. No attempt limit: a bank
// outage delays a disbursement or repayment, it never abandons one half done.
// The activity heartbeats every second, so one whose worker died is retried
// on another worker within HeartbeatTimeout, not after StartToCloseTimeout
// (docs/workflow.md "Recovery").
var bankCallOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	HeartbeatTimeout:    5 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: nonRetryable,
	},
}

// localCollectOptions: the local first try of a stop's Collect (collect).
// One attempt, no retry: a retry belongs to the activity, whose attempts the
// Temporal UI shows. The timeout is short against bankCallOptions' two
// minutes: a try held up by the bank hands over to the activity, whose
// heartbeat then shows it alive, instead of keeping the workflow task busy.
var localCollectOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
}

// final reports an activity error another attempt would not change: a
// refusal (non-retryable, or of a type in nonRetryable) or the run's own
// cancellation.
func final(err error) bool {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && (app.NonRetryable() || slices.Contains(nonRetryable, app.Type())) {
		return true
	}
	var canceled *temporal.CanceledError
	return errors.As(err, &canceled)
}
