package bidding

import (
	"context"
	"errors"
	"time"
)

// ResendListingFull tells again every loan whose listing is raised in full,
// with every bid answered by the bank and none newer than olderThan, but
// which is still listed: it never heard the listing-full signal. The bid
// that fills a listing signals it from the request that placed it, a
// promise held only by that process; a replica killed between the booking
// and the signal, or a Temporal node lost as it came, broke it, and the loan
// waited listed for ever. The worker keeps the promise (docs/replicas.md
// "Background jobs"). A loan that hears the signal twice moves once: it
// hears it only while listed. It answers how many loans it told.
func (s *Service) ResendListingFull(ctx context.Context, olderThan time.Duration, today time.Time) (int, error) {
	loans, err := s.q.LoanListFilledStillListed(ctx, time.Now().Add(-olderThan))
	if err != nil {
		return 0, err
	}
	told := 0
	var errs []error
	for _, l := range loans {
		if err := s.loans.ListingFull(ctx, l.WorkflowID, today); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Warn("listing-full signal sent again: the loan was still listed", "loan", l.ID)
		told++
	}
	return told, errors.Join(errs...)
}
