package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
)

// Registration (docs/security.md "Registration"). Sign-up is charged to the
// client's address as a sign-in attempt is, but waits at most
// newcomerMaxDelay; an attempt that only learns that an identity exists (an
// email registered already, an ID number another user verified) stays a
// failure of the address, so probing for accounts pays as guessing does, and
// costs no bcrypt hash: a password is hashed only to be stored. The owner of
// the email is told someone tried.

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
	req.Email = normalizeEmail(req.Email)
	var fields []FieldError
	if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email || len(req.Email) > 254 {
		fields = append(fields, FieldError{Field: "email", Message: "must be an email address"})
	}
	// bcrypt reads only the first 72 bytes; a longer password would be silently cut.
	if len(req.Password) < 8 || len(req.Password) > 72 {
		fields = append(fields, FieldError{Field: "password", Message: "must be 8 to 72 bytes"})
	}
	// ops accounts are made by the operator (EnsureOpsUser), never by sign-up.
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
	u, device, err := s.registerFrom(r.Context(), req, clientAddr(r))
	if s.refused(w, r, err) {
		return
	}
	s.setDeviceCookie(w, r, device)
	writeJSON(w, http.StatusCreated, map[string]int64{"user_id": u.ID})
}

// registerFrom makes the account req asks for, registered from addr, under
// the address's throttle. It answers the user and the device token, or a
// *loginThrottledError, identity_taken, or conflict for an email that is
// registered already.
func (s *Server) registerFrom(ctx context.Context, req registerRequest, addr string) (dbq.User, string, error) {
	now := s.now()
	key := addressKey(addr)
	key.cap = newcomerMaxDelay
	wait, charged, err := s.admit(ctx, now, key)
	if err != nil {
		return dbq.User{}, "", err
	}
	if wait > 0 {
		s.Logger.Warn("registration throttled", "request_id", middleware.GetReqID(ctx), "address", addr, "wait", wait)
		return dbq.User{}, "", &loginThrottledError{wait: wait}
	}
	u, device, err := s.enrol(ctx, req, addr)
	if errs.Code(err) == errs.Conflict {
		if terr := s.tellOwnerOfAttempt(ctx, req.Email, now); terr != nil {
			s.Logger.Error("registration attempt not told", "request_id", middleware.GetReqID(ctx), "error", terr)
		}
	}
	if code := errs.Code(err); code == errs.Conflict || code == errs.IdentityTaken {
		return dbq.User{}, "", err // the charge stays: a failure of the address
	}
	if ferr := forgive(ctx, s.Q, charged); ferr != nil && err == nil {
		err = ferr
	}
	return u, device, err
}

// enrol makes the account with its password hash, registered from addr.
// The person who chose the password was at addr, on the client that sent
// it: the address becomes one the account is known at, and the client gets
// a device cookie, so their first sign-in is not held by failures of others
// behind the same address.
func (s *Server) enrol(ctx context.Context, req registerRequest, addr string) (dbq.User, string, error) {
	// An email that is taken is found before anything costs a hash (two
	// registrations of one new email at once both hash, and the insert
	// settles them).
	if _, err := s.Q.UserGetByEmail(ctx, req.Email); err == nil {
		return dbq.User{}, "", errTaken
	} else if !errors.Is(err, db.ErrNotFound) {
		return dbq.User{}, "", err
	}
	// Only a verified identity is anyone's (docs/security.md "Identities"):
	// a number someone merely typed blocks nobody; one the bank verified is
	// taken.
	if taken, err := s.Q.UserVerifiedIDNumberTaken(ctx, dbq.UserVerifiedIDNumberTakenParams{IDNumber: req.IDNumber}); err != nil {
		return dbq.User{}, "", err
	} else if taken {
		return dbq.User{}, "", errs.New(errs.IdentityTaken, "ID number verified by another user")
	}
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		return dbq.User{}, "", err
	}
	now := s.now()
	var u dbq.User
	var token string
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if u, err = q.UserInsert(ctx, dbq.UserInsertParams{Email: req.Email, PasswordHash: string(hash), Role: req.Role,
			Name: req.Name, IDNumber: req.IDNumber, Phone: req.Phone}); err != nil {
			return err
		}
		if err := q.LoginKnownAddressUpsert(ctx, dbq.LoginKnownAddressUpsertParams{UserID: u.ID, Address: addr, LastAt: now}); err != nil {
			return err
		}
		token, err = rememberDevice(ctx, q, u.ID, nil, "", now)
		return err
	})
	if db.UniqueViolation(err) {
		return dbq.User{}, "", errTaken
	}
	return u, token, err
}

// errTaken answers a registration of an email that has an account: the
// contract's 409 conflict, with nothing beyond its fixed detail.
var errTaken = errs.New(errs.Conflict, "that email is registered already")

// tellOwnerOfAttempt tells the owner of email that someone tried to
// register it: a notification (the outbox that e-mail delivery reads,
// contact/), once a business day at most, so that an attacker cannot flood
// the owner's inbox.
func (s *Server) tellOwnerOfAttempt(ctx context.Context, email string, now time.Time) error {
	u, err := s.Q.UserGetByEmail(ctx, email)
	if err != nil {
		return err
	}
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		return err
	}
	day := today.Format(time.DateOnly)
	return contact.Write(ctx, s.Q, contact.Notice{
		UserID: u.ID, Kind: lending.NoticeRegistrationAttempted, On: today, At: now,
		Dedupe: fmt.Sprintf("registration-attempted-user-%d-%s", u.ID, day),
		Message: "On " + day + " someone tried to register a new account with your email address. " +
			"Your account is unchanged. If it was you, sign in instead; if it was not, you need do nothing, " +
			"though a password used nowhere else keeps the account safe.",
	})
}
