package store

import (
	"encoding/json"
	"fmt"
)

// GetJSON reads the item at table/key and decodes its JSON value into v.
// It returns the item's version for a later conditional PutJSON.
func GetJSON(tx Tx, table, key string, v any) (version int64, err error) {
	it, err := tx.Get(table, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(it.Value, v); err != nil {
		return 0, fmt.Errorf("store: decode %s/%s: %w", table, key, err)
	}
	return it.Version, nil
}

// PutJSON encodes v as JSON and stores it like Tx.Put.
func PutJSON(tx Tx, table, key string, v any, ifVersion int64) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("store: encode %s/%s: %w", table, key, err)
	}
	return tx.Put(table, key, b, ifVersion)
}

// ScanJSON is Tx.Scan decoding each value into a fresh T. A value that does
// not decode ends the scan with an error naming its key.
func ScanJSON[T any](tx Tx, table string, opt ScanOptions, fn func(key string, v T, version int64) error) error {
	return tx.Scan(table, opt, func(it Item) error {
		var v T
		if err := json.Unmarshal(it.Value, &v); err != nil {
			return fmt.Errorf("store: decode %s/%s: %w", table, it.Key, err)
		}
		return fn(it.Key, v, it.Version)
	})
}

// FilterJSON is ScanJSON collecting, in key order, the values keep accepts
// (every one when keep is nil).
func FilterJSON[T any](tx Tx, table string, opt ScanOptions, keep func(T) bool) ([]T, error) {
	var out []T
	err := ScanJSON(tx, table, opt, func(_ string, v T, _ int64) error {
		if keep == nil || keep(v) {
			out = append(out, v)
		}
		return nil
	})
	return out, err
}
