package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
)

// Signals sends a loan's workflow the messages that come from outside the
// HTTP requests: the bid path's listing-full (bidding.Loans).
type Signals struct{ Client client.Client }

// ListingFull tells the loan that its listing filled on today.
func (s Signals) ListingFull(ctx context.Context, workflowID string, today time.Time) error {
	return s.Client.SignalWorkflow(ctx, workflowID, "", SignalListingFull, TodayRequest{Today: today})
}
