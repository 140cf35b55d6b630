package workflows

// Versioning policy (docs/workflow.md "Changing the workflow"). A running
// loan replays its history against the current code, so once loans run in
// production a change that would make the code take a different path for an
// old history — another activity, another order, another timer, a different
// input — goes behind workflow.GetVersion:
//
//   - one change ID per change, a constant here, never reused or renamed;
//   - a named predicate (func(ctx) bool) that the workflow asks, so the
//     story reads "if partialPayments(ctx)", not version arithmetic;
//   - the recorded histories in testdata/ keep replaying (TestReplayRecordedHistories),
//     and a new history is recorded for the changed path;
//   - a gate is removed only once no run that started before it can still be
//     open, and its histories are retired with it.
//
// No gate stands today. Until loans run in production none is needed: a
// change re-records the histories it affects (docs/testing.md "Replaying
// recorded histories"), and that is how the two gates there were went:
//
//   - "guarantor-acceptance": a loan naming a guarantor waits for its
//     acceptance after due diligence (awaiting_guarantor), where it was
//     listed at once;
//   - "collect-local-first": a stop's Collect is tried once as a local
//     activity first, where it was always an activity;
//
// retired in issue 24 with the histories of the paths before them. No loan
// ran in production on the code before either, and none ran on the code
// before the workflow's rebuild, whose histories were retired too. The two
// change IDs above stay spent: a later gate takes a new one.
