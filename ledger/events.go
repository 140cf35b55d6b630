package ledger

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/events"
)

// Every entry Post writes is also a business event, ledger.<entry type>,
// written by the same statement (docs/events.md "Written with the change"): a movement
// and its event commit together or not at all, at no round trip of their own
// on the bid path.

// entryEvent is an entry's event: its type, loan, user and data.
type entryEvent struct {
	typ            string
	loanID, userID int64
	data           json.RawMessage
}

// EntryData is what a ledger event's data holds: the movement as the bank
// made it, every posting with its account's user. Amounts are 2-decimal
// strings.
type EntryData struct {
	RequestNo string         `json:"request_no"`
	Leg       int            `json:"leg"`
	EntryType string         `json:"entry_type"`
	Ref       string         `json:"ref,omitempty"`
	Amount    string         `json:"amount"` // what moved: the sum of the entry's credits
	Postings  []PostingEvent `json:"postings"`
}

// PostingEvent is one posting in a ledger event.
type PostingEvent struct {
	Account     string `json:"account"`
	UserID      int64  `json:"user_id,omitempty"`
	Amount      string `json:"amount"` // positive: into the account
	Counterpart string `json:"counterpart,omitempty"`
	Kind        string `json:"kind,omitempty"` // what the money is, when the entry moves several kinds (Kind*)
}

// eventOf is e's event. Its loan is e.LoanID, else the loan a loan:<id> ref
// names; its user is the one user whose accounts the entry moves, if only
// one (a recharge, a freeze), none if several (a repayment to its holders:
// each is in the postings).
func eventOf(e Entry) (entryEvent, error) {
	ev := entryEvent{typ: events.Type(events.FamilyLedger, e.Type), loanID: e.LoanID}
	if ev.loanID == 0 {
		if id, ok := strings.CutPrefix(e.Ref, "loan:"); ok {
			ev.loanID, _ = strconv.ParseInt(id, 10, 64)
		}
	}
	d := EntryData{RequestNo: e.RequestNo, Leg: e.Leg, EntryType: e.Type, Ref: e.Ref, Postings: make([]PostingEvent, len(e.Postings))}
	// What moved is what the accounts credited gained, net per account: an
	// entry split into kinds (a disbursement's gross, fee and reserve) moves
	// no more than the same entry unsplit.
	net := map[string]decimal.Decimal{}
	users := map[int64]bool{}
	for i, p := range e.Postings {
		user, _ := parseAccount(p.Account)
		if user != 0 {
			users[user] = true
		}
		net[p.Account] = net[p.Account].Add(p.Amount)
		kind := p.Kind
		if kind == e.Type {
			kind = "" // a freeze's postings name their kind for the receivable trigger, not for readers
		}
		d.Postings[i] = PostingEvent{Account: p.Account, UserID: user, Amount: p.Amount.StringFixed(2), Counterpart: p.Counterpart, Kind: kind}
	}
	moved := decimal.Zero
	for _, n := range net {
		if n.IsPositive() {
			moved = moved.Add(n)
		}
	}
	d.Amount = moved.StringFixed(2)
	if len(users) == 1 {
		for u := range users {
			ev.userID = u
		}
	}
	var err error
	ev.data, err = json.Marshal(d)
	return ev, err
}
