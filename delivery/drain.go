package delivery

import (
	"context"
	"errors"
	"sync"
)

// Drain delivers what claim gives, batch at a time, until a claim gives
// fewer: each item goes to send, parallel of them at once (a claim gives
// only items that may go in any order). send answers whether the item was
// taken, and an error only for what must stop the round (its result could
// not be written). Drain answers how many were taken.
func Drain[T any](ctx context.Context, batch, parallel int, claim func(ctx context.Context, lim int) ([]T, error),
	send func(ctx context.Context, item T) (bool, error)) (int, error) {
	taken := 0
	for {
		items, err := claim(ctx, batch)
		if err != nil {
			return taken, err
		}
		var (
			mu   sync.Mutex
			errs []error
			wg   sync.WaitGroup
			sem  = make(chan struct{}, parallel)
		)
		for _, it := range items {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				ok, err := send(ctx, it)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					taken++
				}
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil || len(items) < batch {
			return taken, err
		}
	}
}
