package api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Input limits (docs/security.md "Input limits"). Every number a client
// sends as text is length-checked before it is parsed: a decimal parser given
// 400,000 digits spends real time on them before saying no, and an attacker
// can send them as fast as the limiter lets through.
const (
	maxQuery     = 2048 // bytes of query string on any request
	maxRateLen   = 16   // "0.123456" and then some
	maxIntLen    = 19   // the digits of the largest int64
	maxPageLimit = 100  // items per page on every list
	defPageLimit = 50
)

// limitRequest refuses, before any handler reads it, a query string too long
// to be honest or one a handler could not pass on (queryProblem).
func (s *Server) limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxQuery {
			s.writeError(w, r, Validation(FieldError{Field: "query", Message: "at most " + strconv.Itoa(maxQuery) + " bytes"}))
			return
		}
		if fe := queryProblem(r.URL.RawQuery); fe != nil {
			s.writeError(w, r, Validation(*fe))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// queryProblem checks every query parameter, name and value: percent
// escapes that decode, valid UTF-8, no NUL. PostgreSQL text holds neither
// NUL nor invalid UTF-8, so such a value reaching a query was a 500
// (GET /v1/ops/audit?target=%00, issue 25) where it is the client's mistake.
func queryProblem(raw string) *FieldError {
	if raw == "" {
		return nil
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return &FieldError{Field: "query", Message: "not a query string: name=value pairs joined by &, percent-encoded"}
	}
	bad := func(s string) bool { return !utf8.ValidString(s) || strings.ContainsRune(s, 0) }
	const msg = "must be UTF-8 text without the NUL character"
	for name, vs := range values {
		if bad(name) {
			return &FieldError{Field: "query", Message: "parameter names " + msg}
		}
		for _, v := range vs {
			if bad(v) {
				return &FieldError{Field: name, Message: msg}
			}
		}
	}
	return nil
}

var ratePattern = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,6})?$`)

// parseRate reads an annual rate: a plain decimal with at most 6 places,
// from 0 to max.
func parseRate(field, s string, max decimal.Decimal) (decimal.Decimal, *FieldError) {
	fe := &FieldError{Field: field, Message: "must be a decimal from 0 to " + max.String() + " (0.12 = 12%), at most 6 places"}
	if len(s) > maxRateLen || !ratePattern.MatchString(s) {
		return decimal.Zero, fe
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.Sign() < 0 || d.GreaterThan(max) {
		return decimal.Zero, fe
	}
	return d, nil
}

// parseInt reads a whole number from lo to hi.
func parseInt(field, s string, lo, hi int64) (int64, *FieldError) {
	fe := &FieldError{Field: field, Message: "must be a whole number from " + strconv.FormatInt(lo, 10) + " to " + strconv.FormatInt(hi, 10)}
	if s == "" || len(s) > maxIntLen {
		return 0, fe
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fe
	}
	return n, nil
}

// parseDate reads a YYYY-MM-DD date.
func parseDate(field, s string) (time.Time, *FieldError) {
	fe := &FieldError{Field: field, Message: "must be a real date YYYY-MM-DD"}
	if len(s) != len(time.DateOnly) {
		return time.Time{}, fe
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fe
	}
	return d, nil
}

// parseCursor reads an id cursor this API handed out; "" is the first page.
func parseCursor(s string) (int64, *FieldError) {
	if s == "" {
		return 0, nil
	}
	n, fe := parseInt("cursor", s, 1, 1<<62)
	if fe != nil {
		return 0, &FieldError{Field: "cursor", Message: "not a cursor this API gave"}
	}
	return n, nil
}

// pageAsked reads a list's ?cursor= (an ID cursor, 0 for the first page)
// and ?limit=, adding what is wrong with them to fields, so a handler
// refuses them together with its own filters' mistakes in one answer.
func pageAsked(r *http.Request, fields *[]FieldError) (cursor int64, limit int) {
	cursor, fe := parseCursor(r.URL.Query().Get("cursor"))
	if fe != nil {
		*fields = append(*fields, *fe)
	}
	limit, fe = pageLimit(r)
	if fe != nil {
		*fields = append(*fields, *fe)
	}
	return cursor, limit
}

// pageLimit is the page size asked for with ?limit=, 1 to maxPageLimit;
// without it, defPageLimit.
func pageLimit(r *http.Request) (int, *FieldError) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defPageLimit, nil
	}
	n, fe := parseInt("limit", s, 1, maxPageLimit)
	return int(n), fe
}

// pageOf is one page of a list (docs/api.md "Pagination"): items, and the
// cursor of the next page, or null on the last.
type pageOf[I any] struct {
	Items      []I     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// onePage cuts rows, fetched with one more than limit to learn whether more
// follow, into the page: each row made an item, and when more follow, the
// last item's row as the next page's cursor.
func onePage[T, I any](rows []T, limit int, item func(T) I, cursor func(T) string) pageOf[I] {
	out := pageOf[I]{Items: []I{}}
	for i, row := range rows {
		if i == limit {
			c := cursor(rows[i-1])
			out.NextCursor = &c
			break
		}
		out.Items = append(out.Items, item(row))
	}
	return out
}

// idCursor is the cursor of a list ordered by ID.
func idCursor(id int64) string { return strconv.FormatInt(id, 10) }

// requireNoBody refuses a body on an endpoint that takes none, unless it is
// empty or {}: nothing a client sends there may be silently ignored (docs/api.md
// "Conventions" refuses unknown fields), which would let `{"status":"repaid"}` look
// accepted.
func requireNoBody(r *http.Request) error {
	if r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return Validation(FieldError{Field: "body", Message: "larger than 1 MiB"})
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var none struct{}
	return decodeFrom(bytes.NewReader(b), &none)
}
