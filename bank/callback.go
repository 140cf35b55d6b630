package bank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Callback signing: every callback carries the Unix seconds it was sent at
// in CallbackTimestampHeader and, in SignatureHeader, hex HMAC-SHA256 under
// BANK_HMAC_SECRET of
//
//	TIMESTAMP "\n" BODY
//
// The timestamp is inside the signature, so it cannot be changed, and the
// platform refuses a callback more than SignatureWindow from its own clock:
// a captured callback cannot be sent again later (issue 25). Within the
// window a repeat is answered "already applied" (the Seq rule makes it
// harmless).
const (
	SignatureHeader         = "X-Bank-Signature"
	CallbackTimestampHeader = "X-Bank-Timestamp"
)

// Callback is what the bank posts to the platform when a request it answered
// "processing" reaches a result, and again when a result changes later (a
// withdrawal reversed, 冲正).
//
// Callbacks may arrive late, twice, out of order, or never (the simulator's
// faults do all four), so a receiver must: verify the signature, treat the
// callback as a hint and settle idempotently by RequestNo, and ignore a
// callback whose Seq is not above the last one it applied for that request.
// A dropped callback is covered by querying the request.
type Callback struct {
	RequestNo string `json:"request_no"`
	Kind      string `json:"kind"` // withdrawal
	Status    Status `json:"status"`
	// Seq orders the results of one request: 1 for the first final result,
	// 2 for a reversal of it.
	Seq          int             `json:"seq"`
	AccountNo    string          `json:"account_no"`
	Amount       decimal.Decimal `json:"amount"`
	Fee          decimal.Decimal `json:"fee"`
	BusinessDate string          `json:"business_date"` // the day the result happened at the bank
	Code         string          `json:"code,omitempty"`
	Message      string          `json:"message,omitempty"`
}

// Sign returns the signature of a callback body sent at unix seconds.
func Sign(secret []byte, unix int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(unix, 10) + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyCallback checks a callback's signature and timestamp (the header
// values as sent) at now: ErrUnsigned without them, ErrBadSignature when the
// signature does not verify, ErrStale when the timestamp is more than
// SignatureWindow from now. The compare is constant-time so a forger learns
// nothing from how long a refusal takes; an empty secret verifies nothing,
// so a missing configuration cannot accept unsigned callbacks.
func VerifyCallback(secret []byte, timestamp, sig string, body []byte, now time.Time) error {
	return verifySigned(secret, timestamp, sig, now, func(unix int64) string { return Sign(secret, unix, body) })
}
