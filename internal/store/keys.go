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

// DeleteScanned deletes the items Tx.Scan with opt visits (a prefix, a
// range; opt.Limit bounds one transaction's work) and returns how many.
// Items already gone are not an error.
func DeleteScanned(tx Tx, table string, opt ScanOptions) (int, error) {
	keys, err := Keys(tx, table, opt)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Delete(table, k, AnyVersion); err != nil && !errors.Is(err, ErrNotFound) {
			return 0, err
		}
	}
	return len(keys), nil
}
