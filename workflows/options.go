package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/errs"
)

// Domain refusals are final; every other failure (database restarting, bank
// 5xx, timeouts) is retried, because money steps must eventually settle and the
// activities are idempotent by request number.
var nonRetryable = []string{
	errs.InvalidState, errs.NotFound, errs.ValidationFailed, errs.Conflict,
	errs.InsufficientBalance, errs.FourFactorMismatch,
}

// dbCallOptions: short, local work against PostgreSQL.
var dbCallOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 15 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        500 * time.Millisecond,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: nonRetryable,
	},
}

// bankCallOptions: calls to the custody bank. No attempt limit: a bank outage
// delays a disbursement or repayment, it never abandons one half done.
var bankCallOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 60 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: nonRetryable,
	},
}
