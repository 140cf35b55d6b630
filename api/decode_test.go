package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Amount  string  `json:"amount"`
		Term    int     `json:"term_months"`
		Answers []int   `json:"answers"`
		Note    *string `json:"note"`
		Enabled bool    `json:"enabled"`
	}
	var ok body
	require.NoError(t, decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(`{"amount":"1.00","term_months":3,"answers":[1],"note":null,"enabled":true}`)), &ok))
	assert.Equal(t, body{Amount: "1.00", Term: 3, Answers: []int{1}, Enabled: true}, ok)

	for in, want := range map[string]FieldError{
		``:                           {"body", "a JSON object is required"},
		`   `:                        {"body", "a JSON object is required"},
		`{`:                          {"body", "malformed JSON"},
		`{"amount":"1.00",}`:         {"body", "malformed JSON"},
		`[]`:                         {"body", "must be a JSON object"},
		`"x"`:                        {"body", "must be a JSON object"},
		`{} {}`:                      {"body", "malformed JSON"},
		`{"status":"paid"}`:          {"status", "unknown field"},
		`{"amount":"1","user_id":7}`: {"user_id", "unknown field"},
		`{"amount":100}`:             {"amount", "must be a string"},
		`{"term_months":"3"}`:        {"term_months", "must be an integer"},
		`{"term_months":1.5}`:        {"term_months", "must be an integer"},
		`{"term_months":1e99}`:       {"term_months", "must be an integer"},
		`{"answers":{}}`:             {"answers", "must be an array"},
		`{"note":5}`:                 {"note", "must be a string"},
		`{"enabled":"yes"}`:          {"enabled", "must be true or false"},
		`{"amount":"` + strings.Repeat("9", maxBody) + `"}`: {"body", "larger than 1 MiB"},
	} {
		var dst body
		err := decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(in)), &dst)
		var p *Problem
		name := in
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		require.ErrorAs(t, err, &p, name)
		assert.Equal(t, 422, p.Status, name)
		assert.Equal(t, "validation_failed", p.Code, name)
		assert.Equal(t, []FieldError{want}, p.Errors, name)
		assert.NotContains(t, p.Errors[0].Message, "api.", "no Go type names: %s", name)
	}
}

// TestParseMoneyEdges: amounts stay below 10^15 (the custody bank's limit,
// well inside NUMERIC(20,2)); anything a client could mean two ways is
// refused rather than guessed.
func TestParseMoneyEdges(t *testing.T) {
	for in, want := range map[string]string{
		"0.01":               "0.01",
		"1.0":                "1.00",
		"007.50":             "7.50",
		"999999999999999.99": "999999999999999.99",
	} {
		d, fe := parseMoney("amount", in)
		require.Nil(t, fe, in)
		assert.Equal(t, want, fmtMoney(d), in)
	}
	for _, in := range []string{
		"1000000000000000.00", "999999999999999999.99", "1000000000000000000.00", "+1.00", "0.001", "1_000", "１００", "1.00 ", "NaN", "Infinity", "0x10", "1E3", "00.00",
	} {
		_, fe := parseMoney("max_amount", in)
		require.NotNil(t, fe, "%q must be refused", in)
		assert.Equal(t, "max_amount", fe.Field, "the error names the field it was given")
	}
	d, fe := parseMoneyOrZero("keep_available", "0.00")
	require.Nil(t, fe)
	assert.Equal(t, "0.00", fmtMoney(d), "a floor may be zero")
	_, fe = parseMoneyOrZero("keep_available", "-0.01")
	assert.NotNil(t, fe)
}

// TestDecodeRefusesDuplicateAndCaseKeys (issue 25, point 8): encoding/json
// lets the last of two equal keys win and matches keys without case; a body
// that says one thing to a proxy or a log and another to the handler is
// refused instead, at any depth.
func TestDecodeRefusesDuplicateAndCaseKeys(t *testing.T) {
	type inner struct {
		Kind string `json:"kind"`
	}
	type body struct {
		Amount string            `json:"amount"`
		Items  []inner           `json:"items"`
		One    *inner            `json:"one"`
		Tags   map[string]string `json:"tags"`
	}
	for in, want := range map[string]FieldError{
		`{"amount":"1.00","amount":"9999.00"}`:    {"amount", "given more than once"},
		`{"Amount":"1.00"}`:                       {"Amount", "unknown field (the field is amount)"},
		`{"AMOUNT":"1.00"}`:                       {"AMOUNT", "unknown field (the field is amount)"},
		`{"items":[{"kind":"a","kind":"b"}]}`:     {"kind", "given more than once"},
		`{"one":{"Kind":"a"}}`:                    {"Kind", "unknown field (the field is kind)"},
		`{"tags":{"a":"1","a":"2"}}`:              {"a", "given more than once"},
		`{"amount":"1.00","items":[],"items":[]}`: {"items", "given more than once"},
	} {
		var dst body
		err := decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(in)), &dst)
		var p *Problem
		require.ErrorAs(t, err, &p, in)
		assert.Equal(t, 422, p.Status, in)
		assert.Equal(t, "validation_failed", p.Code, in)
		assert.Equal(t, []FieldError{want}, p.Errors, in)
	}
	var ok body
	require.NoError(t, decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(
		`{"amount":"1.00","items":[{"kind":"a"},{"kind":"a"}],"one":{"kind":"b"},"tags":{"a":"1","A":"2"}}`)), &ok),
		"the same key in two objects, and map keys that differ in case, are fine")
	assert.Equal(t, "1.00", ok.Amount)
	assert.Len(t, ok.Tags, 2)
}
