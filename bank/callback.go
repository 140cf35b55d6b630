package bank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/shopspring/decimal"
)

// SignatureHeader carries hex(HMAC-SHA256(secret, body)) on every callback.
const SignatureHeader = "X-Bank-Signature"

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

// Sign returns the hex HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret. The compare is
// constant-time so a forger learns nothing from how long a refusal takes; an
// empty secret verifies nothing, so a missing configuration cannot accept
// unsigned callbacks.
func Verify(secret, body []byte, sig string) bool {
	if len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
