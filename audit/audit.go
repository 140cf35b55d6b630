// Package audit is the append-only record of every ops action (`GET
// /v1/ops/audit`; docs/security.md "Audit"): who did what, to what, when
// and why. Record takes the queries of the transaction that makes the effect,
// when there is one, so an action and its record commit together or not at
// all. The table refuses UPDATE, DELETE and TRUNCATE itself (migration
// 0007_security.sql), so not even a bug here can rewrite history.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// Action is what ops did. The values are stored and shown to ops: never
// rename one.
type Action string

// Actions.
const (
	DueDiligence      Action = Action(lending.StatusDueDiligence) // approve or reject a loan at due diligence (the status's name)
	FullTenderReview  Action = "full_tender_review"               // approve or reject a full loan
	WriteOff          Action = "write_off"                        // approve or decline a write-off
	DisbursementRetry Action = "disbursement_retry"               // retry a failed disbursement batch
	ClockAdvance      Action = "clock_advance"                    // move the sandbox clock
	UserLock          Action = "user_lock"                        // lock a user (no bids, no withdrawals)
	UserUnlock        Action = "user_unlock"                      // lift the lock
	BlacklistAdd      Action = "blacklist_add"                    // screening rejects the ID number from now on
	Recovery          Action = "recovery"                         // record money recovered after a write-off
	BorrowerReveal    Action = "borrower_reveal"                  // ops read a borrower's unmasked identity
	WebhookRegister   Action = "webhook_register"                 // events of some types will be POSTed to a URL
	CalendarSet       Action = "calendar_set"                     // set a year's holidays and make-up workdays
	UserReveal        Action = "user_reveal"                      // ops read a user's unmasked data (customer service)
	CouponGrant       Action = "coupon_grant"                     // grant an investor a coupon paid by the bonus account
	BonusTopUp        Action = "bonus_top_up"                     // fill the bonus account from the platform's card
	BonusRetry        Action = "bonus_payment_retry"              // send a refused bonus payment again
)

// Actions is every action, in the order above.
var Actions = []Action{DueDiligence, FullTenderReview, WriteOff, DisbursementRetry, ClockAdvance,
	UserLock, UserUnlock, BlacklistAdd, Recovery, BorrowerReveal, WebhookRegister, CalendarSet, UserReveal, CouponGrant,
	BonusTopUp, BonusRetry}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool {
	for _, x := range Actions {
		if a == x {
			return true
		}
	}
	return false
}

// MaxNote is the longest note kept, in bytes; the API refuses longer ones.
const MaxNote = 2000

// Entry is one action to record.
type Entry struct {
	OpsUserID int64  // the ops user who acted
	Action    Action // what they did
	Target    string // what it was done to: Loan(id), User(id), Clock(date), IDNumber(masked)
	Note      string // why, in their words
}

// Item is a recorded entry.
type Item struct {
	ID        int64
	At        time.Time
	OpsUserID int64
	Action    Action
	Target    string
	Note      string
}

// ErrInvalid: an entry without an ops user, a known action or a target, or
// with a note over MaxNote. It is a programming error, not a client's.
var ErrInvalid = errors.New("audit: invalid entry")

// Record appends e. Pass the queries of the transaction that makes the
// effect (db.Queries(tx)), so that the record and the effect commit together.
func Record(ctx context.Context, q *dbq.Queries, e Entry) (Item, error) {
	if e.OpsUserID <= 0 || !e.Action.Valid() || e.Target == "" || len(e.Note) > MaxNote {
		return Item{}, fmt.Errorf("%w: %+v", ErrInvalid, e)
	}
	row, err := q.AuditInsert(ctx, dbq.AuditInsertParams{OpsUserID: e.OpsUserID, Action: string(e.Action), Target: e.Target, Note: e.Note})
	if err != nil {
		return Item{}, fmt.Errorf("audit %s %s: %w", e.Action, e.Target, err)
	}
	return itemFrom(row), nil
}

// Log is the audit log as ops read it (GET /v1/ops/audit).
type Log struct{ q *dbq.Queries }

// NewLog reads the log in d (a pool).
func NewLog(d db.DBTX) *Log { return &Log{q: db.Queries(d)} }

// List reads entries newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Item, error) { return List(ctx, l.q, f) }

// Filter narrows List; zero fields do not filter.
type Filter struct {
	BeforeID int64  // only entries older than this id (the page cursor)
	Target   string // only entries on this target
	Action   Action // only this action
	Limit    int    // at most this many; 1 and up
}

// List reads entries newest first.
func List(ctx context.Context, q *dbq.Queries, f Filter) ([]Item, error) {
	p := dbq.AuditListParams{Lim: int32(max(f.Limit, 1))}
	if f.BeforeID > 0 {
		p.BeforeID = &f.BeforeID
	}
	if f.Target != "" {
		p.Target = &f.Target
	}
	if f.Action != "" {
		a := string(f.Action)
		p.Action = &a
	}
	rows, err := q.AuditList(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for _, r := range rows {
		out = append(out, itemFrom(r))
	}
	return out, nil
}

func itemFrom(r dbq.AuditLog) Item {
	return Item{ID: r.ID, At: r.At, OpsUserID: r.OpsUserID, Action: Action(r.Action), Target: r.Target, Note: r.Note}
}

// Targets: one spelling per kind of thing, so the log can be filtered by it.

// Loan is a loan's target, "loan:42".
func Loan(id int64) string { return "loan:" + strconv.FormatInt(id, 10) }

// User is a user's target, "user:7".
func User(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// Clock is the sandbox clock's target, "clock:2026-03-01" (the new date).
func Clock(to time.Time) string { return "clock:" + to.Format(time.DateOnly) }

// Webhook is a webhook's target, "webhook:3".
func Webhook(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

// CalendarYear is a year of the bank's calendar, "calendar:2026".
func CalendarYear(year int) string { return "calendar:" + strconv.Itoa(year) }

// BonusAccount is the bonus account's target (its top-ups).
const BonusAccount = "bonus_account"

// CouponPayment is a coupon payment's target, "coupon_payment:5".
func CouponPayment(id int64) string { return "coupon_payment:" + strconv.FormatInt(id, 10) }

// IDNumber is an ID number's target, given already masked
// (kyc.MaskIDNumber): the log is kept forever and cannot be edited, so it
// holds no full identity number; the blacklist row holds that.
func IDNumber(masked string) string { return "id_number:" + masked }
