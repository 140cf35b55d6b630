package workflows

// Versioning policy (docs/workflow.md "Changing the workflow"). A running
// loan replays its history against the current code, so a change that would
// make the code take a different path for an old history — another activity,
// another order, another timer, a different input — goes behind
// workflow.GetVersion:
//
//   - one change ID per change, a constant below, never reused or renamed;
//   - a named predicate (func(ctx) bool) that the workflow asks, so the
//     story reads "if partialPayments(ctx)", not version arithmetic;
//   - the recorded histories in testdata/ keep replaying (TestReplayRecordedHistories),
//     and a new history is recorded for the changed path;
//   - a gate is removed only once no run that started before it can still be
//     open, and its histories are retired with it.
//
import "go.temporal.io/sdk/workflow"

// Change IDs. Each is the name of one change; the predicate below it is what
// the workflow asks.
const (
	// changeGuarantorAcceptance: a loan that names a guarantor waits, after
	// due diligence, for the guarantor to accept before it is listed
	// (awaiting_guarantor). Before it, an approved loan was listed at once.
	changeGuarantorAcceptance = "guarantor-acceptance"
	// changeCollectLocalFirst: a stop's Collect is tried once as a local
	// activity, and only if that try fails as the activity it always was
	// (collectOnce). Before it, every Collect was an activity.
	changeCollectLocalFirst = "collect-local-first"
)

// guarantorAcceptance reports whether this run asks the named guarantor
// before listing a loan approved at due diligence.
func guarantorAcceptance(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeGuarantorAcceptance, workflow.DefaultVersion, 1) == 1
}

// collectLocalFirst reports whether this run tries a stop's Collect as a
// local activity first.
func collectLocalFirst(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeCollectLocalFirst, workflow.DefaultVersion, 1) == 1
}

// Histories recorded before the rebuild of this workflow (issue "the loan
// workflow rebuilt") were retired rather than gated: no loan ran in
// production on that code, and gating every step of the old design would
// have kept two workflows in one.
