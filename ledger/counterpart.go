package ledger

import (
	"context"
	"errors"
	"regexp"
	"strconv"

	"github.com/lendflow/lendflow/db"
)

// Counterparts as a fund log shows them (docs/security.md "Other users' ids"): a
// posting names its counterpart as the books do ("user:1345", an account
// code, "investors"), which is what ops read; the user whose fund log it is
// reads a label instead, and never another user's id. Borrowers are masked
// on listings, and an id shown on an investor's disbursement and repayments
// would let them link one borrower's loans across listings (issue 25).
var (
	userPart = regexp.MustCompile(`^user:([0-9]+)(?::(available|frozen))?$`)
	// anyUser finds an id however a label came to carry one.
	anyUser = regexp.MustCompile(`user:[0-9]+`)
	loanRef = regexp.MustCompile(`^loan:([0-9]+)$`)
)

// platformLabels are the platform's own accounts, and the labels the
// booking code writes for a side of many.
var platformLabels = map[string]string{
	ExternalCards:       "bank card",
	PlatformFee:         "platform fee account",
	PlatformBonus:       "platform bonus account",
	PlatformRiskReserve: "risk reserve",
	PlatformSummary:     "platform summary account",
	"reserve":           "risk reserve",
}

// loanParties is who a loan's other users are to a reader.
type loanParties struct {
	borrower  int64
	guarantor int64 // 0: none
}

// counterparts labels the counterparts of one reader's fund log, reading
// each loan a line names once.
type counterparts struct {
	q      DBTX
	viewer int64
	loans  map[int64]*loanParties
}

// label is raw as the viewer reads it on a line whose entry refers to ref.
func (c *counterparts) label(ctx context.Context, raw, ref string) (string, error) {
	loanID := int64(0)
	if m := loanRef.FindStringSubmatch(ref); m != nil {
		loanID, _ = strconv.ParseInt(m[1], 10, 64)
	}
	ofLoan := func(who string) string {
		if loanID == 0 {
			return who
		}
		return who + " of loan " + strconv.FormatInt(loanID, 10)
	}
	if l, ok := platformLabels[raw]; ok {
		return l, nil
	}
	switch raw {
	case "investors":
		return ofLoan("investors"), nil
	case "claim holders":
		return ofLoan("claim holders"), nil
	case "guarantor":
		return ofLoan("guarantor"), nil
	}
	m := userPart.FindStringSubmatch(raw)
	if m == nil {
		if anyUser.MatchString(raw) {
			return ofLoan("another user"), nil
		}
		return raw, nil
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if id == c.viewer {
		switch m[2] {
		case "frozen":
			return "your frozen balance", nil
		case "available":
			return "your available balance", nil
		}
		return "you", nil
	}
	if loanID == 0 {
		return "another user", nil
	}
	p, err := c.parties(ctx, loanID)
	if err != nil {
		return "", err
	}
	if p == nil {
		return "another user", nil
	}
	switch id {
	case p.borrower:
		return ofLoan("borrower"), nil
	case p.guarantor:
		return ofLoan("guarantor"), nil
	}
	return ofLoan("an investor"), nil
}

func (c *counterparts) parties(ctx context.Context, loanID int64) (*loanParties, error) {
	if p, ok := c.loans[loanID]; ok {
		return p, nil
	}
	loan, err := db.Queries(c.q).LoanGet(ctx, loanID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil // a ref the books carry for no loan: say no more than "another user"
	}
	if err != nil {
		return nil, err
	}
	p := &loanParties{borrower: loan.BorrowerID}
	if loan.GuarantorID != nil {
		p.guarantor = *loan.GuarantorID
	}
	if c.loans == nil {
		c.loans = map[int64]*loanParties{}
	}
	c.loans[loanID] = p
	return p, nil
}
