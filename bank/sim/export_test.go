package sim

import (
	"context"
	"errors"

	"github.com/lendflow/lendflow/bank"
)

// GroupAnswer is one freeze of FreezeInOneGroup: whether FreezeApply
// applied it (in the group, or alone when the group's transaction failed)
// rather than the long way, and what the bank answered once the group was
// over (Code: the refusal, recorded or not).
type GroupAnswer struct {
	Applied bool
	Result  bank.Result
	Code    string
}

// FreezeInOneGroup runs rs as one group, as if they had all arrived while
// another group's transaction ran, then answers each as the API would.
func (s *Sim) FreezeInOneGroup(ctx context.Context, rs ...bank.FreezeRequest) ([]GroupAnswer, error) {
	group := make([]*freezing, len(rs))
	for i, r := range rs {
		f, err := newFreezing(r)
		if err != nil {
			return nil, err
		}
		group[i] = f
	}
	s.freezeGroup(ctx, append([]*freezing(nil), group...))
	out := make([]GroupAnswer, len(group))
	for i, f := range group {
		out[i].Applied = f.applied
		row, err := s.freezeDecided(ctx, f)
		var ref *refusal
		switch {
		case errors.As(err, &ref):
			out[i].Code = ref.code
		case err != nil:
			return nil, err
		default:
			out[i].Code = row.Code
		}
		out[i].Result = result(row)
	}
	return out, nil
}
