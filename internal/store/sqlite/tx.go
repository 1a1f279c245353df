package sqlite

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"overcast/internal/store"
	"overcast/internal/store/sqlkv"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ store.Tx = (*tx)(nil)

type tx struct {
	sqlkv.TxState
	c     *conn
	scans sqlkv.Scanner
}

func (t *tx) Get(table, key string) (store.Item, error) {
	if err := t.CheckItem(table, key, false, store.AnyVersion); err != nil {
		return store.Item{}, err
	}
	found, err := t.c.queryRow(t.Ctx, stmtGet, table, []byte(key))
	if err != nil {
		return store.Item{}, t.wrap("get", table, key, err)
	}
	if !found {
		return store.Item{}, store.ErrNotFound
	}
	return store.Item{Key: key, Value: blob(t.c.dest[0]), Version: t.c.dest[1].(int64)}, nil
}

func (t *tx) Put(table, key string, value []byte, ifVersion int64) (int64, error) {
	if err := t.CheckItem(table, key, true, ifVersion); err != nil {
		return 0, err
	}
	var (
		found bool
		err   error
	)
	switch {
	case ifVersion == store.AnyVersion:
		found, err = t.c.queryRow(t.Ctx, stmtUpsert, table, []byte(key), value)
	case ifVersion == 0:
		found, err = t.c.queryRow(t.Ctx, stmtInsert, table, []byte(key), value)
	case ifVersion > 0:
		found, err = t.c.queryRow(t.Ctx, stmtUpdateIf, table, []byte(key), value, ifVersion)
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
	if err := t.CheckItem(table, key, true, ifVersion); err != nil {
		return err
	}
	if ifVersion == store.AnyVersion {
		found, err := t.c.queryRow(t.Ctx, stmtDelete, table, []byte(key))
		if err != nil {
			return t.wrap("delete", table, key, err)
		}
		if !found {
			return store.ErrNotFound
		}
		return nil
	}
	found, err := t.c.queryRow(t.Ctx, stmtDeleteIf, table, []byte(key), ifVersion)
	if err != nil {
		return t.wrap("delete", table, key, err)
	}
	if found {
		return nil
	}
	// Nothing deleted: tell a missing item from a changed one.
	exists, err := t.c.queryRow(t.Ctx, stmtVersion, table, []byte(key))
	switch {
	case err != nil:
		return t.wrap("delete", table, key, err)
	case exists:
		return store.ErrConflict
	}
	return store.ErrNotFound
}

func (t *tx) Count(table string, prefix string) (int, error) {
	if err := t.Check(table, false); err != nil {
		return 0, err
	}
	var (
		found bool
		err   error
	)
	if hi, ok := sqlkv.PrefixEnd(prefix); ok {
		found, err = t.c.queryRow(t.Ctx, stmtCountBounded, table, []byte(prefix), []byte(hi))
	} else {
		found, err = t.c.queryRow(t.Ctx, stmtCount, table, []byte(prefix))
	}
	if err != nil {
		return 0, t.wrap("count", table, prefix, err)
	}
	if !found {
		return 0, fmt.Errorf("sqlite: count %s: no result row", table)
	}
	return int(t.c.dest[0].(int64)), nil
}

func (t *tx) Scan(table string, opt store.ScanOptions, fn func(store.Item) error) error {
	if err := t.Check(table, false); err != nil {
		return err
	}
	return t.scans.Scan(t.Ctx, table, opt, t.readBatch, t.wrap, fn)
}

var scanStatements = sqlkv.ScanStatements[stmtID]{
	Asc: stmtScanAsc, AscBounded: stmtScanAscBounded, Desc: stmtScanDesc, DescBounded: stmtScanDescBounded,
}

// readBatch reads up to want rows within b into batch. more reports whether
// rows may remain beyond the batch.
func (t *tx) readBatch(table string, b sqlkv.Bounds, reverse bool, want int, batch []store.Item) (_ []store.Item, more bool, err error) {
	id := scanStatements.For(b, reverse)
	args := []driver.Value{table, []byte(b.Lo), int64(want)}
	if b.HasHi {
		args = append(args, []byte(b.Hi))
	}
	rows, err := t.c.query(t.Ctx, id, args...)
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
		if size += len(it.Value); size >= sqlkv.BatchBytes {
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
	if ctxErr := t.Ctx.Err(); ctxErr != nil && (errors.Is(err, ctxErr) || isInterrupt(err)) {
		return ctxErr
	}
	return fmt.Errorf("sqlite: %s %s/%q: %w", op, table, key, err)
}

func isInterrupt(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_INTERRUPT
}
