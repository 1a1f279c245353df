package secretsmanager

import (
	"context"
	"errors"
	"strings"
	"time"

	"overcast/internal/controller"
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
			done, err := purgeDue(tx, key, now)
			if err != nil {
				return err
			}
			if done {
				purged++
			}
			handled++
		}
		return nil
	})
	return handled, purged, err
}

// purgeDue handles the deletion index entry key, which is due: it purges
// the secret, or drops the entry when it is stale (the secret was restored
// or deleted again with a later date). It reports whether it purged.
func purgeDue(tx store.Tx, key string, now time.Time) (bool, error) {
	_, scoped, _ := strings.Cut(key, "|")
	account, rest, _ := strings.Cut(scoped, "/")
	region, name, _ := strings.Cut(rest, "/")
	sc := scope{Account: account, Region: region}
	var sec secret
	_, err := store.GetJSON(tx, secretsTable, sc.Key(name), &sec)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return false, err
	case err == nil && sec.expired(now):
		return true, purge(tx, sc, &sec)
	}
	err = tx.Delete(deletionsTable, key, store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return false, err
}

// reconcileDeletion purges the secret of one deletion index entry once it
// is due, and until then asks to look again when it will be.
func (s *Service) reconcileDeletion(ctx context.Context, key string) (controller.Result, error) {
	dueText, _, _ := strings.Cut(key, "|")
	due, err := time.Parse(deletionTimeFormat, dueText)
	if err != nil {
		return controller.Result{}, nil // not an entry this service wrote
	}
	now := s.now().UTC()
	if now.Before(due) {
		return controller.At(due), nil
	}
	var purged bool
	err = store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		if _, err := tx.Get(deletionsTable, key); errors.Is(err, store.ErrNotFound) {
			purged = false
			return nil // handled already
		}
		var err error
		purged, err = purgeDue(tx, key, now)
		return err
	})
	if purged {
		s.log.Info("secretsmanager: purged a secret whose recovery window ended", "key", key)
	}
	return controller.Result{}, err
}
