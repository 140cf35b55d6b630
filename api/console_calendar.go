package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/console"
)

// consoleCalendar shows a year of the bank's calendar (?year=, default the
// business date's) with the form that sets it, as GET /v1/ops/calendar/{year}.
func (s *Server) consoleCalendar(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := console.CalendarView{Page: s.page(ctx, "Calendar", "calendar"), MinYear: calendar.MinYear, MaxYear: calendar.MaxYear}
	year, err := s.consoleCalendarYear(r, r.URL.Query().Get("year"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	y, err := s.calendar.Get(ctx, year)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	if r.URL.Query().Get("done") != "" {
		v.Flash = fmt.Sprintf("The calendar of %d is saved.", year)
	}
	s.render(w, r, http.StatusOK, "calendar", calendarView(v, y))
}

func calendarView(v console.CalendarView, y calendar.Year) console.CalendarView {
	v.Year, v.Set, v.UpdatedBy = y.Year, y.Set, y.UpdatedBy
	v.Holidays, v.Workdays = dateStrings(y.Holidays), dateStrings(y.Workdays)
	v.HolidaysText, v.WorkdaysText = strings.Join(v.Holidays, "\n"), strings.Join(v.Workdays, "\n")
	if y.Set {
		v.UpdatedAt = y.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return v
}

// consoleCalendarYear reads the year asked, or the business date's year.
func (s *Server) consoleCalendarYear(r *http.Request, asked string) (int, error) {
	if asked == "" {
		today, _, err := s.Clock.Today(r.Context())
		return today.Year(), err
	}
	y, fe := parseInt("year", asked, calendar.MinYear, calendar.MaxYear)
	if fe != nil {
		return 0, Validation(*fe)
	}
	return int(y), nil
}

// consoleCalendarSet replaces a year's calendar through calendar.Service.Put,
// as PUT /v1/ops/calendar/{year} does (audited). Refused, the page shows the
// refusal with the text ops typed.
func (s *Server) consoleCalendarSet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, err := consoleForm(r, "year", "holidays", "workdays")
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	year, err := s.consoleCalendarYear(r, form.Get("year"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	var fields []FieldError
	holidays := consoleDates("holidays", form.Get("holidays"), &fields)
	workdays := consoleDates("workdays", form.Get("workdays"), &fields)
	if len(fields) > 0 {
		err = Validation(fields...)
	} else {
		me, _ := userFrom(ctx)
		_, err = s.calendar.Put(ctx, me.ID, year, holidays, workdays)
	}
	if err == nil {
		http.Redirect(w, r, consolePrefix+"calendar?"+url.Values{"year": {strconv.Itoa(year)}, "done": {"1"}}.Encode(), http.StatusSeeOther)
		return
	}
	prob, known := consoleProblem(err)
	if !known {
		s.consoleFail(w, r, err)
		return
	}
	y, gerr := s.calendar.Get(ctx, year)
	if gerr != nil {
		s.consoleFail(w, r, gerr)
		return
	}
	v := calendarView(console.CalendarView{Page: s.page(ctx, "Calendar", "calendar"), MinYear: calendar.MinYear, MaxYear: calendar.MaxYear}, y)
	v.Problem = prob
	v.HolidaysText, v.WorkdaysText = form.Get("holidays"), form.Get("workdays")
	s.render(w, r, prob.Status, "calendar", v)
}

// consoleDates reads dates separated by spaces, commas or new lines.
func consoleDates(field, text string, fields *[]FieldError) []time.Time {
	var out []time.Time
	words := strings.FieldsFunc(text, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	for _, w := range words {
		d, fe := parseDate(field, w)
		if fe != nil {
			fe.Message = fmt.Sprintf("%q: %s", w, fe.Message)
			*fields = append(*fields, *fe)
			continue
		}
		out = append(out, d)
	}
	return out
}
