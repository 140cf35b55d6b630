// Package events is the platform's business event feed (docs/events.md):
// every status change of a loan and every movement the ledger books,
// written in the transaction of its change, numbered after it commits so a
// reader polling the feed can never skip one, read by ops
// (GET /v1/ops/events) and pushed to webhooks.
//
// The loans' history rows (db/queries/loans.sql LoanHistoryInsert) and the
// ledger's entries (ledger.Post) write theirs in their own statements; a
// capability with an event that is neither calls Write in its transaction.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
)

// Event is one business event as the feed and the webhooks show it.
type Event struct {
	// ID is the event's place in the feed, from 1, without gaps.
	ID           int64
	Type         string
	At           time.Time
	BusinessDate time.Time
	LoanID       int64 // 0: none
	UserID       int64 // 0: none
	Data         json.RawMessage
}

// New is an event to write.
type New struct {
	Type         string // a family's type: Type(FamilyLoan, "listed")
	BusinessDate time.Time
	LoanID       int64 // 0: none
	UserID       int64 // 0: none
	Data         any   // marshalled to JSON: amounts as 2-decimal strings
}

// Write records n in the transaction q runs in: it becomes visible, and is
// numbered, only if that transaction commits.
func Write(ctx context.Context, q *dbq.Queries, n New) error {
	if !WellFormed(n.Type) {
		return fmt.Errorf("events: type %q is not family.name", n.Type)
	}
	data, err := json.Marshal(n.Data)
	if err != nil {
		return fmt.Errorf("events: %s data: %w", n.Type, err)
	}
	return q.EventInsert(ctx, dbq.EventInsertParams{Type: n.Type, BusinessDate: n.BusinessDate,
		LoanID: Optional(n.LoanID), UserID: Optional(n.UserID), Data: data})
}

// Optional is an id as a nullable column: 0 is none.
func Optional(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// wire is an event as the feed and the webhooks carry it (docs/events.md
// "The feed").
type wire struct {
	ID           int64           `json:"id"`
	Type         string          `json:"type"`
	At           time.Time       `json:"at"`
	BusinessDate string          `json:"business_date"`
	LoanID       *int64          `json:"loan_id,omitempty"`
	UserID       *int64          `json:"user_id,omitempty"`
	Data         json.RawMessage `json:"data"`
}

// MarshalJSON writes e as the feed and the webhooks carry it.
func (e Event) MarshalJSON() ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(wire{ID: e.ID, Type: e.Type, At: e.At.UTC(), BusinessDate: e.BusinessDate.Format(time.DateOnly),
		LoanID: Optional(e.LoanID), UserID: Optional(e.UserID), Data: data})
}
