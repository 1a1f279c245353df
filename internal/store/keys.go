package store

import "errors"

// Keys returns the keys Tx.Scan with opt visits, in its order.
func Keys(tx Tx, table string, opt ScanOptions) ([]string, error) {
	var keys []string
	err := tx.Scan(table, opt, func(it Item) error {
		keys = append(keys, it.Key)
		return nil
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
