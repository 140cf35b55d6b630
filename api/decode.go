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
// client cannot set status, rate or user_id it does not own), as are a key
// given twice or spelled in another case than the field's (strictKeys),
// trailing data, bodies over 1 MiB and wrong types; each as a 422 naming the
// field.
func decodeJSON(r *http.Request, dst any) error {
	return decodeFrom(http.MaxBytesReader(nil, r.Body, maxBody), dst)
}

// decodeLenient decodes a body already read (to check its signature) and
// accepts fields dst does not have: for bodies a partner sends (the bank's
// callbacks), which may grow a field before the platform knows it, and must
// not be refused for it forever.
func decodeLenient(b []byte, dst any) error { return decode(bytes.NewReader(b), dst, false) }

func decodeFrom(rd io.Reader, dst any) error {
	b, err := io.ReadAll(rd)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return Validation(FieldError{Field: "body", Message: "larger than 1 MiB"})
	}
	if err != nil {
		return Validation(FieldError{Field: "body", Message: "malformed JSON"})
	}
	if fe := strictKeys(b, reflect.TypeOf(dst)); fe != nil {
		return Validation(*fe)
	}
	return decode(bytes.NewReader(b), dst, true)
}

// strictKeys refuses what encoding/json would quietly accept in a body for
// t: a key given twice in one object (the last would win, so what a proxy or
// a log read is not what was booked), and a key that is a field's name in
// another case ("Amount" for "amount", which the decoder matches). Anything
// else it does not understand (malformed JSON, a wrong type) it leaves to
// the decoder, which names it.
func strictKeys(b []byte, t reflect.Type) *FieldError {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	fe, _ := walkKeys(dec, t)
	return fe
}

// walkKeys reads one JSON value from dec, checking the keys of the objects
// in it against t (nil: any keys). The error is the JSON's own, left to the
// decoder.
func walkKeys(dec *json.Decoder, t reflect.Type) (*FieldError, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
		t = nil // reads its own JSON, whatever its keys
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil, nil
	}
	switch delim {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if fe, err := walkKeys(dec, elem); fe != nil || err != nil {
				return fe, err
			}
		}
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		switch {
		case t != nil && t.Kind() == reflect.Struct:
			fields = jsonFields(t)
		case t != nil && t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			if seen[key] {
				return &FieldError{Field: key, Message: "given more than once"}, nil
			}
			seen[key] = true
			next := elem
			if fields != nil {
				ft, exact := fields[key]
				if !exact {
					for name := range fields {
						if strings.EqualFold(name, key) {
							return &FieldError{Field: key, Message: "unknown field (the field is " + name + ")"}, nil
						}
					}
				}
				next = ft
			}
			if fe, err := walkKeys(dec, next); fe != nil || err != nil {
				return fe, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return nil, err
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps the JSON names of a struct's fields to their types, the
// fields of embedded structs included, as encoding/json names them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("json"), ",")[0]
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && tag == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if tag == "" {
			tag = sf.Name
		}
		out[tag] = sf.Type
	}
	return out
}

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
