package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Device cookies, in the manner of OWASP's "device cookies" (docs/security.md
// "Sign-in"): a successful sign-in (or a registration) hands the client a
// token naming the account on that device. A later sign-in to that account
// presenting it is charged to that device alone (signInKeys), so an attacker
// guessing from the same address, or at the same account from elsewhere,
// never holds it up. The token is 32 random bytes; the platform keeps its
// SHA-256 only, so a copy of the table recognizes no one. A token names one
// account: presented for another email it is no device of that account's,
// and an attacker's cookie for an account of their own buys nothing against
// anyone else's.
const (
	// DeviceFor: a device unused this long is forgotten (and so is its
	// cookie, which lives as long).
	DeviceFor = 90 * 24 * time.Hour
	// devicesPerUser: the devices an account keeps, the most recently used.
	devicesPerUser = 20
)

var deviceTokenShape = regexp.MustCompile(`^[0-9a-f]{64}$`)

// deviceOf is the user's device whose token the request presented, or nil.
func (s *service) deviceOf(ctx context.Context, userID int64, token string, now time.Time) (*dbq.LoginDevice, error) {
	if !deviceTokenShape.MatchString(token) {
		return nil, nil
	}
	d, err := s.q.LoginDeviceGet(ctx, dbq.LoginDeviceGetParams{TokenHash: tokenHash(token), UserID: userID, Since: now.Add(-DeviceFor)})
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// rememberDevice records a sign-in on the device: the one presented is seen
// again; without one, a new device is made, and the account's oldest beyond
// devicesPerUser forgotten. It answers the token for the cookie.
func rememberDevice(ctx context.Context, q *dbq.Queries, userID int64, device *dbq.LoginDevice, token string, now time.Time) (string, error) {
	if device != nil {
		return token, q.LoginDeviceTouch(ctx, dbq.LoginDeviceTouchParams{ID: device.ID, At: now})
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token = hex.EncodeToString(raw)
	if _, err := q.LoginDeviceInsert(ctx, dbq.LoginDeviceInsertParams{UserID: userID, TokenHash: tokenHash(token), At: now}); err != nil {
		return "", err
	}
	return token, q.LoginDeviceTrim(ctx, dbq.LoginDeviceTrimParams{UserID: userID, Keep: devicesPerUser})
}
