package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

const maxBody = 1 << 20

// decodeJSON reads a strict JSON body: unknown fields are refused (so a
// client cannot set status, rate or user_id it does not own), as are trailing
// data, bodies over 1 MiB and wrong types; each as a 422 naming the field.
func decodeJSON(r *http.Request, dst any) error {
	return decodeFrom(http.MaxBytesReader(nil, r.Body, maxBody), dst)
}

// decodeJSONBytes is decodeJSON for a body already read (to check a signature).
func decodeJSONBytes(b []byte, dst any) error { return decodeFrom(bytes.NewReader(b), dst) }

func decodeFrom(rd io.Reader, dst any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return Validation(FieldError{Field: "body", Message: "a JSON object is required"})
	case errors.As(err, &maxErr):
		return Validation(FieldError{Field: "body", Message: "larger than 1 MiB"})
	case errors.As(err, &typeErr):
		return Validation(FieldError{Field: typeErr.Field, Message: "must be a " + typeErr.Type.String()})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Validation(FieldError{Field: field, Message: "unknown field"})
	}
	return Validation(FieldError{Field: "body", Message: "malformed JSON"})
}

var moneyPattern = regexp.MustCompile(`^[0-9]{1,18}(\.[0-9]{1,2})?$`)

// fmtMoney writes an amount with exactly 2 decimals (API.md "Conventions").
func fmtMoney(d decimal.Decimal) string { return d.StringFixed(2) }

// parseMoney reads a money string: digits with at most 2 decimals, positive,
// no sign, exponent or spaces.
func parseMoney(field, s string) (decimal.Decimal, *FieldError) {
	if !moneyPattern.MatchString(s) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be an amount like \"1234.50\": digits, at most 2 decimals"}
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.Sign() <= 0 {
		return decimal.Zero, &FieldError{Field: field, Message: "must be greater than 0.00"}
	}
	return d, nil
}

// parseMoneyOrZero is parseMoney that also accepts 0.00 (a floor, not a payment).
func parseMoneyOrZero(field, s string) (decimal.Decimal, *FieldError) {
	if !moneyPattern.MatchString(s) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be an amount like \"1234.50\": digits, at most 2 decimals"}
	}
	return decimal.RequireFromString(s), nil
}
