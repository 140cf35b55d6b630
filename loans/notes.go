package loans

import (
	"strings"

	"github.com/lendflow/lendflow/lending"
)

// opsNoteKinds are the history rows an ops decision writes: the workflow
// (workflows/loan.go) writes the decision's kind as a prefix, then the ops
// user's note. Ops read the row whole; the borrower reads a neutral line,
// the decision without the note, which is ops' working text (docs/security.md
// "What clients see"). The e2e lifecycle test pins the prefixes to what the
// workflow writes.
var opsNoteKinds = []struct {
	prefix string
	// neutral is the borrower's line for a row entering status.
	neutral func(status lending.Status) string
}{
	{"due diligence: ", func(st lending.Status) string {
		return "due diligence: " + decisionWord(st != lending.StatusRejected)
	}},
	{"full-tender review: ", func(st lending.Status) string {
		return "full-tender review: " + decisionWord(st != lending.StatusReviewRejected)
	}},
	{WriteOffDeclinedNote, func(lending.Status) string { return "write-off declined" }},
	{"written off (核销): ", func(lending.Status) string { return "written off (核销)" }},
}

func decisionWord(approved bool) string {
	if approved {
		return string(lending.StatusApproved)
	}
	return string(lending.StatusRejected)
}

// borrowerNote is a history row's note as anyone but ops reads it.
func borrowerNote(status lending.Status, note string) string {
	for _, k := range opsNoteKinds {
		if strings.HasPrefix(note, k.prefix) {
			return k.neutral(status)
		}
	}
	return note
}

// The history rows the workflow writes when it asks ops to write a loan off
// (activities.Collect, step write_off_request) and when ops decline
// (workflows/loan.go; opsNoteKinds): the write-off queue reads them. The
// end-to-end console test takes a loan past 90 days and sees it queued.
const (
	WriteOffAskNote      = "more than 90 days past due: ops asked to write off"
	WriteOffDeclinedNote = "write-off declined: "
)
