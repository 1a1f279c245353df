package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"overcast/internal/store"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ store.Tx = (*tx)(nil)

// Scans read a batch of rows, close the statement, and only then call the
// callback, so the callback may use the Tx freely (even start another Scan)
// with no statement left running underneath. A batch ends at scanBatchRows
// rows or once it holds scanBatchBytes of values, which bounds memory when
// values are large.
const (
	scanBatchRows  = 256
	scanBatchBytes = 4 << 20
)

type tx struct {
	ctx      context.Context
	c        *conn
	writable bool
	done     bool
	batch    []store.Item // reused by Scan when not nested
	scanning bool
}

func (t *tx) check(table string, write bool) error {
	switch {
	case t.done:
		return store.ErrTxDone
	case write && !t.writable:
		return store.ErrReadOnly
	case table == "":
		return fmt.Errorf("%w: empty table name", store.ErrInvalid)
	}
	return nil
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", store.ErrInvalid)
	}
	return nil
}

func (t *tx) Get(table, key string) (store.Item, error) {
	if err := t.check(table, false); err != nil {
		return store.Item{}, err
	}
	if err := checkKey(key); err != nil {
		return store.Item{}, err
	}
	found, err := t.c.queryRow(t.ctx, stmtGet, table, []byte(key))
	if err != nil {
		return store.Item{}, t.wrap("get", table, key, err)
	}
	if !found {
		return store.Item{}, store.ErrNotFound
	}
	return store.Item{Key: key, Value: blob(t.c.dest[0]), Version: t.c.dest[1].(int64)}, nil
}

func (t *tx) Put(table, key string, value []byte, ifVersion int64) (int64, error) {
	if err := t.check(table, true); err != nil {
		return 0, err
	}
	if err := checkKey(key); err != nil {
		return 0, err
	}
	var (
		found bool
		err   error
	)
	switch {
	case ifVersion == store.AnyVersion:
		found, err = t.c.queryRow(t.ctx, stmtUpsert, table, []byte(key), value)
	case ifVersion == 0:
		found, err = t.c.queryRow(t.ctx, stmtInsert, table, []byte(key), value)
	case ifVersion > 0:
		found, err = t.c.queryRow(t.ctx, stmtUpdateIf, table, []byte(key), value, ifVersion)
	default:
		return 0, fmt.Errorf("%w: ifVersion %d", store.ErrInvalid, ifVersion)
	}
	if err != nil {
		return 0, t.wrap("put", table, key, err)
	}
	if !found {
		return 0, store.ErrConflict
	}
	return t.c.dest[0].(int64), nil
}

func (t *tx) Delete(table, key string, ifVersion int64) error {
	if err := t.check(table, true); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if ifVersion < store.AnyVersion {
		return fmt.Errorf("%w: ifVersion %d", store.ErrInvalid, ifVersion)
	}
	if ifVersion == store.AnyVersion {
		found, err := t.c.queryRow(t.ctx, stmtDelete, table, []byte(key))
		if err != nil {
			return t.wrap("delete", table, key, err)
		}
		if !found {
			return store.ErrNotFound
		}
		return nil
	}
	found, err := t.c.queryRow(t.ctx, stmtDeleteIf, table, []byte(key), ifVersion)
	if err != nil {
		return t.wrap("delete", table, key, err)
	}
	if found {
		return nil
	}
	// Nothing deleted: tell a missing item from a changed one.
	exists, err := t.c.queryRow(t.ctx, stmtVersion, table, []byte(key))
	switch {
	case err != nil:
		return t.wrap("delete", table, key, err)
	case exists:
		return store.ErrConflict
	}
	return store.ErrNotFound
}

func (t *tx) Count(table string, prefix string) (int, error) {
	if err := t.check(table, false); err != nil {
		return 0, err
	}
	var (
		found bool
		err   error
	)
	if hi, ok := prefixEnd(prefix); ok {
		found, err = t.c.queryRow(t.ctx, stmtCountBounded, table, []byte(prefix), []byte(hi))
	} else {
		found, err = t.c.queryRow(t.ctx, stmtCount, table, []byte(prefix))
	}
	if err != nil {
		return 0, t.wrap("count", table, prefix, err)
	}
	if !found {
		return 0, fmt.Errorf("sqlite: count %s: no result row", table)
	}
	return int(t.c.dest[0].(int64)), nil
}

// bounds turns ScanOptions into an inclusive lower and an optional exclusive
// upper key bound. An exclusive lower bound k is the inclusive bound
// k+"\x00", the least string greater than k.
type bounds struct {
	lo    string
	hi    string
	hasHi bool
}

func scanBounds(opt store.ScanOptions) bounds {
	b := bounds{lo: opt.Prefix}
	b.hi, b.hasHi = prefixEnd(opt.Prefix)
	if opt.After == "" {
		return b
	}
	if opt.Reverse {
		if !b.hasHi || opt.After < b.hi {
			b.hi, b.hasHi = opt.After, true
		}
	} else if after := opt.After + "\x00"; after > b.lo {
		b.lo = after
	}
	return b
}

// prefixEnd returns the least string greater than every string with the
// given prefix, if there is one: the prefix without its trailing 0xFF bytes,
// with its last byte incremented. A prefix of only 0xFF bytes (or "") has no
// end: every greater string starts with it.
func prefixEnd(prefix string) (string, bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			return prefix[:i] + string([]byte{prefix[i] + 1}), true
		}
	}
	return "", false
}

func (t *tx) Scan(table string, opt store.ScanOptions, fn func(store.Item) error) error {
	if err := t.check(table, false); err != nil {
		return err
	}
	if opt.Limit < 0 {
		return fmt.Errorf("%w: negative limit %d", store.ErrInvalid, opt.Limit)
	}
	// A nested Scan (from inside fn) must not reuse the outer one's batch.
	var batch []store.Item
	if !t.scanning {
		t.scanning = true
		defer func() { t.scanning = false }()
		batch = t.batch[:0]
		defer func() { clear(batch); t.batch = batch[:0] }()
	}
	b := scanBounds(opt)
	remaining := opt.Limit
	for {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		want := scanBatchRows
		if opt.Limit > 0 {
			want = min(want, remaining)
		}
		var (
			more bool
			err  error
		)
		batch, more, err = t.readBatch(table, b, opt.Reverse, want, batch[:0])
		if err != nil {
			return t.wrap("scan", table, opt.Prefix, err)
		}
		for i := range batch {
			// Checked per item: the statement's own interruption only covers
			// reading, and the caller may be looping over many batches.
			if err := t.ctx.Err(); err != nil {
				return err
			}
			if err := fn(batch[i]); err != nil {
				if errors.Is(err, store.ErrStop) {
					return nil
				}
				return err
			}
		}
		if opt.Limit > 0 {
			remaining -= len(batch)
			if remaining == 0 {
				return nil
			}
		}
		if !more {
			return nil
		}
		last := batch[len(batch)-1].Key
		if opt.Reverse {
			b.hi, b.hasHi = last, true
		} else {
			b.lo = last + "\x00"
		}
		clear(batch) // drop references to values already handed out
	}
}

// readBatch reads up to want rows within b into batch. more reports whether
// rows may remain beyond the batch.
func (t *tx) readBatch(table string, b bounds, reverse bool, want int, batch []store.Item) (_ []store.Item, more bool, err error) {
	var id stmtID
	switch {
	case !reverse && !b.hasHi:
		id = stmtScanAsc
	case !reverse:
		id = stmtScanAscBounded
	case !b.hasHi:
		id = stmtScanDesc
	default:
		id = stmtScanDescBounded
	}
	args := []driver.Value{table, []byte(b.lo), int64(want)}
	if b.hasHi {
		args = append(args, []byte(b.hi))
	}
	rows, err := t.c.query(t.ctx, id, args...)
	if err != nil {
		return batch, false, err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	dest := t.c.dest[:3]
	size := 0
	for len(batch) < want {
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				return batch, false, nil
			}
			return batch, false, err
		}
		it := store.Item{Key: string(blob(dest[0])), Value: blob(dest[1]), Version: dest[2].(int64)}
		batch = append(batch, it)
		if size += len(it.Value); size >= scanBatchBytes {
			break
		}
	}
	return batch, true, nil
}

// blob returns a column value as bytes; the driver returns nil for an empty
// BLOB, which Item.Value reports as empty but not nil.
func blob(v driver.Value) []byte {
	if b, ok := v.([]byte); ok && b != nil {
		return b
	}
	return []byte{}
}

// wrap adds the operation and item to a driver error. A context error is
// returned as is, so callers can test it with errors.Is as usual.
func (t *tx) wrap(op, table, key string, err error) error {
	if ctxErr := t.ctx.Err(); ctxErr != nil && (errors.Is(err, ctxErr) || isInterrupt(err)) {
		return ctxErr
	}
	return fmt.Errorf("sqlite: %s %s/%q: %w", op, table, key, err)
}

func isInterrupt(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_INTERRUPT
}
