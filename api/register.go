package api

import (
	"net/http"
	"net/mail"
	"strings"

	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
)

// Registration (docs/security.md "Registration"): the request's fields are
// checked here, every invalid one named at once; auth.Service.Register does
// the rest.

type registerRequest struct {
	Email    string       `json:"email"`
	Password string       `json:"password"`
	Role     lending.Role `json:"role"`
	Name     string       `json:"name"`
	IDNumber string       `json:"id_number"`
	Phone    string       `json:"phone"`
}

// check answers what is wrong with the request, nil when nothing is, and
// puts the email and the ID number in their one spelling.
func (req *registerRequest) check() error {
	req.Email = auth.NormalizeEmail(req.Email)
	var fields []FieldError
	if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email || len(req.Email) > 254 {
		fields = append(fields, FieldError{Field: "email", Message: "must be an email address"})
	}
	// bcrypt reads only the first 72 bytes; a longer password would be silently cut.
	if len(req.Password) < 8 || len(req.Password) > 72 {
		fields = append(fields, FieldError{Field: "password", Message: "must be 8 to 72 bytes"})
	}
	// ops accounts are made by the operator (auth.EnsureOpsUser), never by sign-up.
	if req.Role != RoleBorrower && req.Role != RoleInvestor && req.Role != RoleGuarantor {
		fields = append(fields, FieldError{Field: "role", Message: "must be borrower, investor or guarantor"})
	}
	if n := strings.TrimSpace(req.Name); n == "" || len(n) > 100 {
		fields = append(fields, FieldError{Field: "name", Message: "required, at most 100 bytes"})
	}
	if !kyc.ValidIDNumber(req.IDNumber) {
		fields = append(fields, FieldError{Field: "id_number", Message: "must be an 18-character resident ID number with a valid check digit"})
	}
	if !kyc.ValidPhone(req.Phone) {
		fields = append(fields, FieldError{Field: "phone", Message: "must be an 11-digit mobile number"})
	}
	if len(fields) > 0 {
		return Validation(fields...)
	}
	req.Name = strings.TrimSpace(req.Name)
	// The check character may be typed x or X; one spelling keeps lookups exact.
	req.IDNumber = strings.ToUpper(req.IDNumber)
	return nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.check(); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, device, err := s.auth.Register(r.Context(), auth.Registration{Email: req.Email, Password: req.Password, Role: req.Role,
		Name: req.Name, IDNumber: req.IDNumber, Phone: req.Phone}, clientAddr(r, s.TrustedProxies))
	if s.refused(w, r, err) {
		return
	}
	s.setDeviceCookie(w, r, device)
	writeJSON(w, http.StatusCreated, map[string]int64{"user_id": u.ID})
}
