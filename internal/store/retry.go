package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"overcast/internal/clock"
)

// UpdateRetry runs fn in a new Update transaction, again and again while it
// fails with ErrConflict, at most attempts times (at least once). Use it for
// read-modify-write cycles guarded by ifVersion: the conflict means another
// writer got there first, and re-running fn re-reads their result.
//
// Between attempts it waits a short random time, growing with the attempt
// number, so that writers contending for one item spread out instead of
// colliding in lockstep. Any other error, including ctx's, is returned at once.
func UpdateRetry(ctx context.Context, s Store, attempts int, fn func(Tx) error) error {
	attempts = max(attempts, 1)
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			// Real time, whatever clock the caller runs on: the wait is for
			// another writer's transaction, not for anything scheduled.
			if werr := clock.Sleep(ctx, clock.Real(), retryBackoff(attempt)); werr != nil {
				return werr
			}
		}
		err = s.Update(ctx, fn)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("store: gave up after %d attempts: %w", attempts, err)
}

// retryBackoff is full jitter over an exponential ceiling: the first retry
// usually goes immediately, since a lost race rarely repeats, and the ceiling
// starts small because store transactions are short. It still grows to
// 100ms by the 12th attempt: PostgreSQL's SERIALIZABLE aborts writers of
// neighbouring keys by the dozen when many run at once, and the late
// retries must wait for the crowd to thin out rather than rejoin it.
func retryBackoff(attempt int) time.Duration {
	ceiling := min(50*time.Microsecond<<min(attempt, 16), 100*time.Millisecond)
	return rand.N(ceiling)
}
