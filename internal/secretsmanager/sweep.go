package secretsmanager

import (
	"context"
	"errors"
	"strings"

	"overcast/internal/store"
)

// sweepBatch bounds the secrets one sweep transaction purges, so a large
// backlog does not hold the writer for long.
const sweepBatch = 100

// Sweep purges the secrets, in every account and region, whose recovery
// window has ended by the clock's now. It returns how many it purged.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		handled, purged, err := s.sweepBatch(ctx)
		total += purged
		if err != nil || handled < sweepBatch {
			return total, err
		}
	}
}

// sweepBatch handles up to sweepBatch due index entries, returning how
// many it handled and how many secrets it purged.
func (s *Service) sweepBatch(ctx context.Context) (handled, purged int, err error) {
	now := s.now().UTC()
	// Everything due sorts before this bound: keys start with the due time.
	bound := now.Format(deletionTimeFormat) + "|\xff"
	err = store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		handled, purged = 0, 0
		var due []string
		err := tx.Scan(deletionsTable, store.ScanOptions{Limit: sweepBatch}, func(it store.Item) error {
			if it.Key >= bound {
				return store.ErrStop
			}
			due = append(due, it.Key)
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range due {
			_, scoped, _ := strings.Cut(key, "|")
			account, rest, _ := strings.Cut(scoped, "/")
			region, name, _ := strings.Cut(rest, "/")
			sc := scope{account: account, region: region}
			var sec secret
			_, err := store.GetJSON(tx, secretsTable, sc.key(name), &sec)
			switch {
			case errors.Is(err, store.ErrNotFound):
				// Only the index entry was left.
				if err := tx.Delete(deletionsTable, key, store.AnyVersion); err != nil {
					return err
				}
			case err != nil:
				return err
			case sec.expired(now):
				if err := purge(tx, sc, &sec); err != nil {
					return err
				}
				purged++
			default:
				// Restored, or deleted again with a later date: the
				// index entry is stale.
				if err := tx.Delete(deletionsTable, key, store.AnyVersion); err != nil {
					return err
				}
			}
			handled++
		}
		return nil
	})
	return handled, purged, err
}

// Start runs the sweeper in the background: a sweep at once, then one
// every SweepInterval. Close stops it.
func (s *Service) Start() { s.sweeper.Start() }

// Close stops the sweeper and waits for it, so the store can be closed
// after it.
func (s *Service) Close() error {
	s.sweeper.Stop()
	return nil
}

// sweepPass is one pass of the sweeper.
func (s *Service) sweepPass(ctx context.Context) {
	if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("secretsmanager: sweeping deleted secrets", "err", err)
	} else if n > 0 {
		s.log.Info("secretsmanager: purged secrets whose recovery window ended", "count", n)
	}
}
