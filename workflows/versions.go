package workflows

// Versioning policy (STYLE.md "Workflows", docs/workflow.md "Changing the
// workflow"). A running loan replays its history against the current code,
// so a change that would make the code take a different path for an old
// history — another activity, another order, another timer, a different
// input — goes behind workflow.GetVersion:
//
//   - one change ID per change, a constant below, never reused or renamed;
//   - a named predicate (func(ctx) bool) that the workflow asks, so the
//     story reads "if partialPayments(ctx)", not version arithmetic;
//   - the recorded histories in testdata/ keep replaying (TestReplayRecordedHistories),
//     and a new history is recorded for the changed path;
//   - a gate is removed only once no run that started before it can still be
//     open, and its histories are retired with it.
//
// Histories recorded before the rebuild of this workflow (issue "the loan
// workflow rebuilt") were retired rather than gated: no loan ran in
// production on that code, and gating every step of the old design would
// have kept two workflows in one.
