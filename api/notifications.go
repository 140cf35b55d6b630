package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/lending"
)

func (s *Server) notificationRoutes(r chi.Router) {
	r.With(s.requireRole(lending.Roles...)).
		Get("/v1/me/notifications", s.notifications)
}

type notificationItem struct {
	ID            int64     `json:"id"`
	BusinessDate  string    `json:"business_date"`
	At            time.Time `json:"at"`
	Kind          string    `json:"kind"`
	LoanID        *int64    `json:"loan_id,omitempty"`
	InstallmentNo *int32    `json:"installment_no,omitempty"`
	Amount        *string   `json:"amount,omitempty"`
	Message       string    `json:"message"`
}

// notifications lists what has reached the caller (docs/rules.md "Contact";
// contact.Inbox), newest first: everything up to the business date. The
// cursor is "date.id" of the last item; a full page always carries one.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var before *contact.Before
	if c := r.URL.Query().Get("cursor"); c != "" {
		d, id, found := strings.Cut(c, ".")
		day, derr := time.Parse(time.DateOnly, d)
		n, ierr := strconv.ParseInt(id, 10, 64)
		if !found || derr != nil || ierr != nil || len(c) > 40 {
			s.writeError(w, r, Validation(FieldError{Field: "cursor", Message: "not a cursor this API gave"}))
			return
		}
		before = &contact.Before{Date: day, ID: n}
	}
	rows, err := s.inbox.List(r.Context(), me.ID, before)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items      []notificationItem `json:"items"`
		NextCursor *string            `json:"next_cursor"`
	}{Items: []notificationItem{}}
	for _, n := range rows {
		item := notificationItem{ID: n.ID, BusinessDate: n.BusinessDate.Format(time.DateOnly), At: n.At, Kind: n.Kind,
			LoanID: n.LoanID, InstallmentNo: n.InstallmentNo, Message: n.Message}
		if n.Amount != nil {
			a := fmtMoney(*n.Amount)
			item.Amount = &a
		}
		out.Items = append(out.Items, item)
	}
	if len(rows) == contact.InboxPage {
		last := rows[len(rows)-1]
		c := last.BusinessDate.Format(time.DateOnly) + "." + strconv.FormatInt(last.ID, 10)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}
