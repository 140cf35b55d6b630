package bank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Request signing: the platform signs every request it sends the bank, as
// custody banks' APIs require of their platforms, with a key the two share
// (BANK_API_KEY). The signature is hex HMAC-SHA256 over
//
//	METHOD "\n" REQUEST-URI "\n" TIMESTAMP "\n" hex(SHA-256(body))
//
// where REQUEST-URI is the escaped path and query as sent, and TIMESTAMP the
// Unix seconds in TimestampHeader. The bank refuses a request whose
// timestamp is more than SignatureWindow from its own clock, so a captured
// request cannot be sent again later; within the window a repeat is a repeat
// of its request number, which the bank does once (bank.go), so it moves
// nothing.
const (
	TimestampHeader        = "X-Lendflow-Timestamp"
	RequestSignatureHeader = "X-Lendflow-Signature"
	SignatureWindow        = 5 * time.Minute
)

// RequestSignature is the signature of one request under key.
func RequestSignature(key []byte, method, requestURI string, unix int64, body []byte) string {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(method + "\n" + requestURI + "\n" + strconv.FormatInt(unix, 10) + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(m.Sum(nil))
}

// Reasons a signed request is refused.
var (
	ErrUnsigned     = errors.New("the request is not signed")
	ErrBadSignature = errors.New("the request's signature does not verify")
	ErrStale        = errors.New("the request's timestamp is outside the signature window")
)

// VerifyRequest checks a request's signature and timestamp (the header
// values as sent) at now. An empty key verifies nothing: a bank started
// without its key refuses everyone rather than anyone.
func VerifyRequest(key []byte, method, requestURI, timestamp, signature string, body []byte, now time.Time) error {
	return verifySigned(key, timestamp, signature, now, func(unix int64) string {
		return RequestSignature(key, method, requestURI, unix, body)
	})
}

// verifySigned checks a timestamp and the signature sign makes of it, as
// sent, at now: the one check of requests (VerifyRequest) and callbacks
// (VerifyCallback).
func verifySigned(key []byte, timestamp, signature string, now time.Time, sign func(unix int64) string) error {
	if timestamp == "" || signature == "" {
		return ErrUnsigned
	}
	if len(key) == 0 || len(timestamp) > 20 || len(signature) != 2*sha256.Size {
		return ErrBadSignature
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	want, _ := hex.DecodeString(sign(unix))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > SignatureWindow || d < -SignatureWindow {
		return ErrStale
	}
	return nil
}
