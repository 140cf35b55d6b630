package lending

import "time"

// Shanghai is the platform time zone (docs/rules.md "overdue"). Business dates are
// civil dates in it, carried as midnight UTC so that no zone arithmetic can
// move them.
var Shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600) // China has had no DST since 1991
}()

// Contact with a borrower is allowed from 08:00 to 20:00 platform time.
const ContactFromHour, ContactUntilHour = 8, 20

// Date is the civil date of t in the platform time zone, as midnight UTC.
func Date(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Days counts calendar days from a to b: the day count of penalty interest,
// days past due and accrual. Both are business dates (midnight UTC); the count
// is taken on their civil dates, so a stray clock time cannot change it.
func Days(a, b time.Time) int {
	ca := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	cb := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(cb.Sub(ca).Hours() / 24)
}

// ContactAt is the moment a notice on business date day reaches a borrower in
// sandbox mode: the start of that day's contact window, platform time.
func ContactAt(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), ContactFromHour, 0, 0, 0, Shanghai)
}

// UntilContactHours is how long from t until contact is allowed (0: now).
func UntilContactHours(t time.Time) time.Duration {
	t = t.In(Shanghai)
	h := t.Hour()
	if h >= ContactFromHour && h < ContactUntilHour {
		return 0
	}
	next := time.Date(t.Year(), t.Month(), t.Day(), ContactFromHour, 0, 0, 0, Shanghai)
	if h >= ContactUntilHour {
		next = next.AddDate(0, 0, 1)
	}
	return next.Sub(t)
}

// InContactHours reports whether a borrower may be contacted at t: from
// 08:00 to 20:00 platform time (docs/rules.md "contact").
func InContactHours(t time.Time) bool { return UntilContactHours(t) == 0 }
