package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
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

// decodeLenient decodes a body already read (to check its signature) and
// accepts fields dst does not have: for bodies a partner sends (the bank's
// callbacks), which may grow a field before the platform knows it, and must
// not be refused for it forever.
func decodeLenient(b []byte, dst any) error { return decode(bytes.NewReader(b), dst, false) }

func decodeFrom(rd io.Reader, dst any) error { return decode(rd, dst, true) }

func decode(rd io.Reader, dst any, strict bool) error {
	dec := json.NewDecoder(rd)
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		if field, ok := nulIn(reflect.ValueOf(dst), "body"); ok {
			// JSON may carry \u0000; PostgreSQL text cannot, and the
			// failed write would be a 500 instead of a refusal.
			return Validation(FieldError{Field: field, Message: "must not contain the NUL character"})
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return Validation(FieldError{Field: "body", Message: "a JSON object is required"})
	case errors.As(err, &maxErr):
		return Validation(FieldError{Field: "body", Message: "larger than 1 MiB"})
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return Validation(FieldError{Field: "body", Message: "must be a JSON object"})
	case errors.As(err, &typeErr):
		return Validation(FieldError{Field: typeErr.Field, Message: "must be " + jsonTypeName(typeErr.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Validation(FieldError{Field: field, Message: "unknown field"})
	}
	return Validation(FieldError{Field: "body", Message: "malformed JSON"})
}

// nulIn finds a string holding NUL in v and names its JSON field.
func nulIn(v reflect.Value, field string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulIn(v.Elem(), field)
		}
	case reflect.String:
		return field, strings.ContainsRune(v.String(), 0)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, ok := nulIn(v.Index(i), field); ok {
				return f, true
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if f, ok := nulIn(k, field); ok {
				return f, true
			}
			if f, ok := nulIn(v.MapIndex(k), field); ok {
				return f, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			name := strings.Split(sf.Tag.Get("json"), ",")[0]
			if name == "" {
				name = sf.Name
			}
			if sf.Anonymous {
				name = field
			}
			if f, ok := nulIn(v.Field(i), name); ok {
				return f, true
			}
		}
	}
	return "", false
}

// jsonTypeName names a Go type as a client knows it: "must be an integer",
// not "must be a int32" (the Go name is an internal).
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

var moneyPattern = regexp.MustCompile(`^[0-9]{1,18}(\.[0-9]{1,2})?$`)

// maxMoneyLen is the longest amount moneyPattern admits, checked first.
const maxMoneyLen = 21

// maxMoney: no amount reaches 1,000,000,000,000,000.00. The custody bank
// refuses one that large (as the simulator does), and a request refused
// only once the platform had written its row (a recharge, a withdrawal)
// would leave a record of a refusal; refused here, it leaves nothing.
var maxMoney = decimal.New(1, 15)

// fmtMoney writes an amount with exactly 2 decimals (docs/api.md "Conventions").
func fmtMoney(d decimal.Decimal) string { return d.StringFixed(2) }

// parseMoney reads a money string: digits with at most 2 decimals, positive,
// no sign, exponent or spaces.
func parseMoney(field, s string) (decimal.Decimal, *FieldError) {
	if len(s) > maxMoneyLen || !moneyPattern.MatchString(s) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be an amount like \"1234.50\": digits, at most 2 decimals"}
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.Sign() <= 0 {
		return decimal.Zero, &FieldError{Field: field, Message: "must be greater than 0.00"}
	}
	if !d.LessThan(maxMoney) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be below 1000000000000000.00"}
	}
	return d, nil
}

// parseMoneyOrZero is parseMoney that also accepts 0.00 (a floor, not a payment).
func parseMoneyOrZero(field, s string) (decimal.Decimal, *FieldError) {
	if len(s) > maxMoneyLen || !moneyPattern.MatchString(s) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be an amount like \"1234.50\": digits, at most 2 decimals"}
	}
	d := decimal.RequireFromString(s)
	if !d.LessThan(maxMoney) {
		return decimal.Zero, &FieldError{Field: field, Message: "must be below 1000000000000000.00"}
	}
	return d, nil
}
