// Package sqlkv holds what the SQL implementations of store.Store share
// above their drivers: turning ScanOptions into key bounds over the one
// items(tbl, key, value, version) table, and reading a scan in batches so
// that the callback may use the transaction while no statement is running.
package sqlkv

import (
	"context"
	"errors"
	"fmt"

	"overcast/internal/store"
)

// Scans read a batch of rows, close the statement, and only then call the
// callback, so the callback may use the Tx freely (even start another Scan)
// with no statement left running underneath. A batch ends at BatchRows
// rows or once it holds BatchBytes of values, which bounds memory when
// values are large.
const (
	BatchRows  = 256
	BatchBytes = 4 << 20
)

// Bounds is a key range: an inclusive lower bound Lo and, if HasHi, an
// exclusive upper bound Hi. An exclusive lower bound k is the inclusive
// bound k+"\x00", the least string greater than k.
type Bounds struct {
	Lo    string
	Hi    string
	HasHi bool
}

// ScanBounds is the range a Scan with opt visits.
func ScanBounds(opt store.ScanOptions) Bounds {
	b := Bounds{Lo: opt.Prefix}
	b.Hi, b.HasHi = PrefixEnd(opt.Prefix)
	if opt.After == "" {
		return b
	}
	if opt.Reverse {
		if !b.HasHi || opt.After < b.Hi {
			b.Hi, b.HasHi = opt.After, true
		}
	} else if after := opt.After + "\x00"; after > b.Lo {
		b.Lo = after
	}
	return b
}

// PrefixEnd returns the least string greater than every string with the
// given prefix, if there is one: the prefix without its trailing 0xFF bytes,
// with its last byte incremented. A prefix of only 0xFF bytes (or "") has no
// end: every greater string starts with it.
func PrefixEnd(prefix string) (string, bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			return prefix[:i] + string([]byte{prefix[i] + 1}), true
		}
	}
	return "", false
}

// ReadBatch reads up to want items of table within b, in key order
// (descending if reverse), appending them to batch; more reports whether
// items may remain beyond the batch. It must not leave a statement running.
type ReadBatch func(table string, b Bounds, reverse bool, want int, batch []store.Item) (_ []store.Item, more bool, err error)

// Wrap adds the operation and item to a driver's error.
type Wrap func(op, table, key string, err error) error

// Scanner runs a transaction's scans, keeping the outermost one's batch
// for the next: a nested Scan (from inside fn) gets a batch of its own.
type Scanner struct {
	batch    []store.Item
	scanning bool
}

// Scan implements store.Tx.Scan with read; errors of read go through wrap,
// fn's are returned unchanged.
func (s *Scanner) Scan(ctx context.Context, table string, opt store.ScanOptions, read ReadBatch, wrap Wrap,
	fn func(store.Item) error) error {
	if s.scanning {
		_, err := scan(ctx, table, opt, nil, read, wrap, fn)
		return err
	}
	s.scanning = true
	batch, err := scan(ctx, table, opt, s.batch[:0], read, wrap, fn)
	s.batch, s.scanning = batch[:0], false
	return err
}

// scan runs a Scan starting from the (empty) batch it is given, and returns
// that batch's storage for reuse.
func scan(ctx context.Context, table string, opt store.ScanOptions, batch []store.Item, read ReadBatch,
	wrap Wrap, fn func(store.Item) error) ([]store.Item, error) {
	if opt.Limit < 0 {
		return batch, fmt.Errorf("%w: negative limit %d", store.ErrInvalid, opt.Limit)
	}
	defer func() { clear(batch) }() // drop references to values handed out
	b := ScanBounds(opt)
	remaining := opt.Limit
	for {
		if err := ctx.Err(); err != nil {
			return batch, err
		}
		want := BatchRows
		if opt.Limit > 0 {
			want = min(want, remaining)
		}
		var (
			more bool
			err  error
		)
		clear(batch)
		batch, more, err = read(table, b, opt.Reverse, want, batch[:0])
		if err != nil {
			return batch, wrap("scan", table, opt.Prefix, err)
		}
		for i := range batch {
			// Checked per item: the statement's own interruption only covers
			// reading, and the caller may be looping over many batches.
			if err := ctx.Err(); err != nil {
				return batch, err
			}
			if err := fn(batch[i]); err != nil {
				if errors.Is(err, store.ErrStop) {
					return batch, nil
				}
				return batch, err
			}
		}
		if opt.Limit > 0 {
			remaining -= len(batch)
			if remaining == 0 {
				return batch, nil
			}
		}
		if !more {
			return batch, nil
		}
		last := batch[len(batch)-1].Key
		if opt.Reverse {
			b.Hi, b.HasHi = last, true
		} else {
			b.Lo = last + "\x00"
		}
	}
}

// ScanStatements are a driver's four scan statements, by direction and by
// whether they take an exclusive upper bound.
type ScanStatements[S any] struct {
	Asc, AscBounded, Desc, DescBounded S
}

// For picks the statement that reads b in the given direction.
func (s ScanStatements[S]) For(b Bounds, reverse bool) S {
	switch {
	case !reverse && !b.HasHi:
		return s.Asc
	case !reverse:
		return s.AscBounded
	case !b.HasHi:
		return s.Desc
	}
	return s.DescBounded
}

// TxState is what every Tx method checks before touching the database; a
// driver's Tx embeds it.
type TxState struct {
	Ctx      context.Context
	Writable bool
	Done     bool // set when the View or Update has returned
	// Failed, once set, is what every later call returns: the database
	// aborted the transaction (a serialization failure), so a caller that
	// takes the ErrConflict for a failed condition and goes on gets the
	// conflict again, for UpdateRetry, not the database's "transaction is
	// aborted".
	Failed error
}

// Check fails a call that may not run: the transaction is over or its
// context done, a write in a View, or no table named.
func (t *TxState) Check(table string, write bool) error {
	switch {
	case t.Done:
		return store.ErrTxDone
	case t.Failed != nil:
		return t.Failed
	case write && !t.Writable:
		return store.ErrReadOnly
	case table == "":
		return fmt.Errorf("%w: empty table name", store.ErrInvalid)
	}
	return t.Ctx.Err()
}

// CheckItem is Check for a call on one item, which also rejects the empty
// key no implementation stores and an ifVersion below store.AnyVersion.
func (t *TxState) CheckItem(table, key string, write bool, ifVersion int64) error {
	if err := t.Check(table, write); err != nil {
		return err
	}
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", store.ErrInvalid)
	case ifVersion < store.AnyVersion:
		return fmt.Errorf("%w: ifVersion %d", store.ErrInvalid, ifVersion)
	}
	return nil
}
