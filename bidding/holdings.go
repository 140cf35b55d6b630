package bidding

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/lending"
)

// Holding is one of an investor's bids as a claim: what it lent, what it has
// received and what is still to come.
type Holding struct {
	LoanID            int64
	BidID             int64
	Principal         decimal.Decimal
	ReceivedPrincipal decimal.Decimal
	ReceivedInterest  decimal.Decimal
	PendingPrincipal  decimal.Decimal
	PendingInterest   decimal.Decimal
	// Status is the bid's until the loan is disbursed (pending, frozen),
	// then the loan's (repaying, overdue, repaid, written_off).
	Status string
}

// Holdings are the investor's claims. A bid still frozen is shown with its
// whole amount pending as principal only once the loan is disbursed.
func (s *Service) Holdings(ctx context.Context, investorID int64) ([]Holding, error) {
	rows, err := s.q.HoldingsByInvestor(ctx, investorID)
	if err != nil {
		return nil, err
	}
	out := make([]Holding, len(rows))
	for i, h := range rows {
		status := string(h.BidStatus)
		if h.BidStatus == lending.BidDisbursed {
			status = string(h.LoanStatus)
		}
		out[i] = Holding{LoanID: h.LoanID, BidID: h.BidID, Principal: h.Principal, ReceivedPrincipal: h.ReceivedPrincipal,
			ReceivedInterest: h.ReceivedInterest, PendingPrincipal: h.PendingPrincipal, PendingInterest: h.PendingInterest, Status: status}
	}
	return out, nil
}
