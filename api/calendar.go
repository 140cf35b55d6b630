package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/lending"
)

// calendarRoutes mounts the bank's calendar of workdays (docs/calendar.md),
// which the large-value withdrawal window follows.
func (s *Server) calendarRoutes(r chi.Router) {
	ops := s.requireRole(lending.RoleOps)
	r.With(ops).Get("/v1/ops/calendar/{year}", s.calendarGet)
	r.With(ops, s.idempotent).Put("/v1/ops/calendar/{year}", s.calendarPut)
}

type calendarBody struct {
	Year      int        `json:"year"`
	Holidays  []string   `json:"holidays"`
	Workdays  []string   `json:"workdays"`
	Set       bool       `json:"set"`
	UpdatedBy *int64     `json:"updated_by"`
	UpdatedAt *time.Time `json:"updated_at"`
}

func calendarOut(y calendar.Year) calendarBody {
	out := calendarBody{Year: y.Year, Holidays: dateStrings(y.Holidays), Workdays: dateStrings(y.Workdays), Set: y.Set}
	if y.Set {
		by, at := y.UpdatedBy, y.UpdatedAt
		out.UpdatedBy, out.UpdatedAt = &by, &at
	}
	return out
}

func dateStrings(ds []time.Time) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Format(time.DateOnly)
	}
	return out
}

func calendarYear(r *http.Request) (int, *FieldError) {
	y, fe := parseInt("year", chi.URLParam(r, "year"), calendar.MinYear, calendar.MaxYear)
	return int(y), fe
}

// calendarGet answers a year's calendar; a year never set has no days.
func (s *Server) calendarGet(w http.ResponseWriter, r *http.Request) {
	year, fe := calendarYear(r)
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return
	}
	y, err := s.calendar.Get(r.Context(), year)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, calendarOut(y))
}

type calendarRequest struct {
	Holidays []string `json:"holidays"`
	Workdays []string `json:"workdays"`
}

// calendarPut replaces a year's holidays and make-up workdays (audited).
func (s *Server) calendarPut(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	year, fe := calendarYear(r)
	if fe != nil {
		fields = append(fields, *fe)
	}
	var req calendarRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	parse := func(field string, ss []string) []time.Time {
		out := make([]time.Time, 0, len(ss))
		for i, v := range ss {
			d, fe := parseDate(field+"["+strconv.Itoa(i)+"]", v)
			if fe != nil {
				fields = append(fields, *fe)
				continue
			}
			out = append(out, d)
		}
		return out
	}
	holidays, workdays := parse("holidays", req.Holidays), parse("workdays", req.Workdays)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	me, _ := userFrom(r.Context())
	y, err := s.calendar.Put(r.Context(), me.ID, year, holidays, workdays)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, calendarOut(y))
}
