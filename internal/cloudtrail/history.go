package cloudtrail

import (
	"bytes"
	"context"

	"overcast/internal/store"
)

// moveHistory moves into the history store the events that versions of
// overcast before it (service.Env.History) kept in the main store, a
// batch at a time: copied in one transaction, deleted in the next. A crash
// between the two leaves a batch in both stores, and the next pass copies
// the same keys again, so no event is lost or doubled.
func (s *Service) moveHistory(ctx context.Context) error {
	if s.history == s.Store {
		return nil
	}
	for {
		var batch []store.Item
		err := s.Store.View(ctx, func(tx store.Tx) error {
			return tx.Scan(eventsTable, store.ScanOptions{Limit: trimBatch}, func(it store.Item) error {
				batch = append(batch, store.Item{Key: it.Key, Value: bytes.Clone(it.Value)})
				return nil
			})
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		err = s.history.Update(ctx, func(tx store.Tx) error {
			for _, it := range batch {
				if _, err := tx.Put(eventsTable, it.Key, it.Value, store.AnyVersion); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys := make([]string, len(batch))
		for i, it := range batch {
			keys[i] = it.Key
		}
		err = s.Store.Update(ctx, func(tx store.Tx) error { return store.DeleteKeys(tx, eventsTable, keys) })
		if err != nil {
			return err
		}
	}
}
