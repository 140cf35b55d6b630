package disclosure

import (
	"context"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Publisher is the figures as the platform publishes them (GET /v1/stats,
// the console's disclosure page), as of the platform's business date.
type Publisher struct{ q *dbq.Queries }

// NewPublisher reads the platform in d (a pool).
func NewPublisher(d db.DBTX) *Publisher { return &Publisher{q: db.Queries(d)} }

// Now is the figures as of the business date (Compute).
func (p *Publisher) Now(ctx context.Context) (Figures, error) {
	c, err := p.q.ClockGet(ctx)
	if err != nil {
		return Figures{}, err
	}
	return Compute(ctx, p.q, c.Today)
}

// Chart is the figures as of the business date and the daily snapshots of
// the days before it, back to days ago (History).
func (p *Publisher) Chart(ctx context.Context, days int) (Figures, []Figures, error) {
	c, err := p.q.ClockGet(ctx)
	if err != nil {
		return Figures{}, nil, err
	}
	f, err := Compute(ctx, p.q, c.Today)
	if err != nil {
		return f, nil, err
	}
	hist, err := History(ctx, p.q, c.Today.AddDate(0, 0, -days), c.Today)
	return f, hist, err
}
