package store

import (
	"context"
	"errors"
)

// Keys returns the keys Tx.Scan with opt visits, in its order.
func Keys(tx Tx, table string, opt ScanOptions) ([]string, error) {
	var keys []string
	err := tx.Scan(table, opt, func(it Item) error {
		keys = append(keys, it.Key)
		return nil
	})
	return keys, err
}

// TableKeys returns every key of table, read in a View of its own: what a
// controller's Keys lists at start and on resync.
func TableKeys(ctx context.Context, s Store, table string) ([]string, error) {
	var keys []string
	err := s.View(ctx, func(tx Tx) (err error) {
		keys, err = Keys(tx, table, ScanOptions{})
		return err
	})
	return keys, err
}

// TableKeysFunc is a controller's Keys that lists every key of table.
func TableKeysFunc(s Store, table string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) { return TableKeys(ctx, s, table) }
}

// DeleteKeys deletes the items of table with the given keys; items
// already gone are not an error.
func DeleteKeys(tx Tx, table string, keys []string) error {
	for _, k := range keys {
		if err := tx.Delete(table, k, AnyVersion); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// DeleteScanned deletes the items Tx.Scan with opt visits (a prefix, a
// range; opt.Limit bounds one transaction's work) and returns how many.
// Items already gone are not an error.
func DeleteScanned(tx Tx, table string, opt ScanOptions) (int, error) {
	keys, err := Keys(tx, table, opt)
	if err != nil {
		return 0, err
	}
	if err := DeleteKeys(tx, table, keys); err != nil {
		return 0, err
	}
	return len(keys), nil
}
