package state

import (
	"context"
	"math"
	"time"

	"parley/internal/problem"
	"parley/internal/store"
)

// SizeAt returns the log size the record had at time t: the size of the
// last checkpoint issued at or before t. What the record "said" at a time
// is what its checkpoints had committed to.
func SizeAt(ctx context.Context, st store.Store, t time.Time) (int64, error) {
	var size int64 = -1
	err := st.Checkpoints(ctx, 0, math.MaxInt64, func(c store.Checkpoint) error {
		if c.Time.After(t) {
			return errStop
		}
		size = c.Size
		return nil
	})
	if err != nil && err != errStop {
		return 0, err
	}
	if size < 0 {
		return 0, problem.New(problem.NotFound, "", "the record did not exist yet at %s", t.Format(time.RFC3339))
	}
	return size, nil
}
