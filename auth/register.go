package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/users"
)

// Registration (docs/security.md "Registration"). Sign-up is charged to the
// client's address as a sign-in attempt is, but waits at most
// NewcomerMaxDelay; an attempt that only learns that an identity exists (an
// email registered already, an ID number another user verified) stays a
// failure of the address, so probing for accounts pays as guessing does, and
// costs no bcrypt hash: a password is hashed only to be stored. The owner of
// the email is told someone tried.

// Registration is the account asked for, its fields checked and in their one
// spelling (the email normalized, the ID number's check character upper
// case): the API refuses anything else before it gets here.
type Registration struct {
	Email, Password string
	Role            lending.Role
	Name            string
	IDNumber        string
	Phone           string
}

// errTaken answers a registration of an email that has an account: the
// contract's 409 conflict, with nothing beyond its fixed detail.
var errTaken = errs.New(errs.Conflict, "that email is registered already")

func (s *service) Register(ctx context.Context, reg Registration, addr string) (users.User, string, error) {
	now := s.now()
	key := addressKey(addr)
	key.cap = NewcomerMaxDelay
	wait, charged, err := s.admit(ctx, now, key)
	if err != nil {
		return users.User{}, "", err
	}
	if wait > 0 {
		logging.From(ctx, s.log).Warn("registration throttled", "address", addr, "wait", wait)
		return users.User{}, "", &Throttled{Wait: wait}
	}
	u, device, err := s.enrol(ctx, reg, addr)
	if errs.Code(err) == errs.Conflict {
		if terr := s.tellOwnerOfAttempt(ctx, reg.Email, now); terr != nil {
			logging.From(ctx, s.log).Error("registration attempt not told", "error", terr)
		}
	}
	if code := errs.Code(err); code == errs.Conflict || code == errs.IdentityTaken {
		return users.User{}, "", err // the charge stays: a failure of the address
	}
	if ferr := forgive(ctx, s.q, charged); ferr != nil && err == nil {
		err = ferr
	}
	return u, device, err
}

// enrol makes the account with its password hash, registered from addr.
// The person who chose the password was at addr, on the client that sent
// it: the address becomes one the account is known at, and the client gets
// a device cookie, so their first sign-in is not held by failures of others
// behind the same address.
func (s *service) enrol(ctx context.Context, reg Registration, addr string) (users.User, string, error) {
	// An email that is taken is found before anything costs a hash (two
	// registrations of one new email at once both hash, and the insert
	// settles them).
	if _, err := s.q.UserGetByEmail(ctx, reg.Email); err == nil {
		return users.User{}, "", errTaken
	} else if !errors.Is(err, db.ErrNotFound) {
		return users.User{}, "", err
	}
	// Only a verified identity is anyone's (docs/security.md "Identities"):
	// a number someone merely typed blocks nobody; one the bank verified is
	// taken.
	if taken, err := s.q.UserVerifiedIDNumberTaken(ctx, dbq.UserVerifiedIDNumberTakenParams{IDNumberHash: pii.Hash(reg.IDNumber)}); err != nil {
		return users.User{}, "", err
	} else if taken {
		return users.User{}, "", errs.New(errs.IdentityTaken, "ID number verified by another user")
	}
	hash, err := s.hashPassword(reg.Password)
	if err != nil {
		return users.User{}, "", err
	}
	now := s.now()
	var u dbq.User
	var token string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if u, err = q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: reg.Email, PasswordHash: string(hash),
			Role: reg.Role, Name: reg.Name, IDNumber: reg.IDNumber, Phone: reg.Phone})); err != nil {
			return err
		}
		if err := q.LoginKnownAddressUpsert(ctx, dbq.LoginKnownAddressUpsertParams{UserID: u.ID, Address: addr, LastAt: now}); err != nil {
			return err
		}
		token, err = rememberDevice(ctx, q, u.ID, nil, "", now)
		return err
	})
	if db.UniqueViolation(err) {
		return users.User{}, "", errTaken
	}
	if err != nil {
		return users.User{}, "", err
	}
	user, err := users.From(u)
	return user, token, err
}

// tellOwnerOfAttempt tells the owner of email that someone tried to
// register it: a notification (the outbox that e-mail delivery reads,
// contact/), once a business day at most, so that an attacker cannot flood
// the owner's inbox.
func (s *service) tellOwnerOfAttempt(ctx context.Context, email string, now time.Time) error {
	u, err := s.q.UserGetByEmail(ctx, email)
	if err != nil {
		return err
	}
	today, _, err := s.clock.Today(ctx)
	if err != nil {
		return err
	}
	day := today.Format(time.DateOnly)
	return contact.Write(ctx, s.q, contact.Notice{
		UserID: u.ID, Kind: lending.NoticeRegistrationAttempted, On: today, At: now,
		Dedupe: fmt.Sprintf("registration-attempted-user-%d-%s", u.ID, day),
		Message: "On " + day + " someone tried to register a new account with your email address. " +
			"Your account is unchanged. If it was you, sign in instead; if it was not, you need do nothing, " +
			"though a password used nowhere else keeps the account safe.",
	})
}
