package bidding

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/metrics"
)

// bidsTotal counts new bids by outcome (metrics.go's convention): admitted
// (frozen at the bank), pending (admitted, the bank has not answered yet), or
// the refusal's code, the platform's or the bank's, or error. A retry under a
// key that made a bid already is not a new bid and is not counted.
var bidsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "lendflow_bidding_bids_total",
	Help: "New bids, by hand or by auto-invest rule, by outcome: admitted, pending, the refusal's code (insufficient_balance, newbie_only, ...), or error.",
}, []string{"outcome"})

// batchSize is how many bids each admitting transaction carried (batch.go):
// 1 while bids come one at a time, more on a hot listing.
var batchSize = promauto.NewHistogram(prometheus.HistogramOpts{
	Name:    "lendflow_bidding_admission_batch_size",
	Help:    "Bids admitted (or judged) together in one transaction on one listing.",
	Buckets: metrics.GroupSizeBuckets,
})

// batchSeconds is how long each admitting transaction took, retries
// included: a listing's batches run one at a time, so their sum over a
// stretch of time says how busy its queue was.
var batchSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
	Name:    "lendflow_bidding_admission_seconds",
	Help:    "Time each admitting transaction of one listing took, retries included.",
	Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
})

// bookGroupSize is how many answered freezes each booking transaction
// carried (book.go).
var bookGroupSize = promauto.NewHistogram(prometheus.HistogramOpts{
	Name:    "lendflow_bidding_freeze_booking_batch_size",
	Help:    "Freezes the bank answered, booked together in one transaction.",
	Buckets: metrics.GroupSizeBuckets,
})

func outcome(bid dbq.Bid, err error) string {
	if err == nil && bid.Status == lending.BidPending {
		return "pending"
	}
	if err == nil {
		return "admitted"
	}
	if code := errs.Code(err); code != "" {
		return code
	}
	return "error"
}
