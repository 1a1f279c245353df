package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"overcast/internal/store"
	"overcast/internal/store/sqlkv"
)

var _ store.Tx = (*tx)(nil)

// The statements are sqlite's, in PostgreSQL's parameter syntax; pgx
// prepares and caches each on every connection the first time it runs
// there. Lower key bounds are inclusive, upper bounds exclusive and left
// out when there is none (nothing sorts above every bytea).
const (
	sqlGet    = `SELECT value, version FROM items WHERE tbl = $1 AND key = $2`
	sqlInsert = `INSERT INTO items (tbl, key, value, version) VALUES ($1, $2, $3, 1)
		ON CONFLICT (tbl, key) DO NOTHING RETURNING version`
	sqlUpsert = `INSERT INTO items (tbl, key, value, version) VALUES ($1, $2, $3, 1)
		ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value, version = items.version + 1
		RETURNING version`
	sqlUpdateIf = `UPDATE items SET value = $3, version = version + 1
		WHERE tbl = $1 AND key = $2 AND version = $4 RETURNING version`
	sqlDelete   = `DELETE FROM items WHERE tbl = $1 AND key = $2 RETURNING version`
	sqlDeleteIf = `WITH deleted AS (DELETE FROM items WHERE tbl = $1 AND key = $2 AND version = $3 RETURNING 1)
		SELECT EXISTS (SELECT FROM deleted), EXISTS (SELECT FROM items WHERE tbl = $1 AND key = $2)`
	sqlScanAsc       = `SELECT key, value, version FROM items WHERE tbl = $1 AND key >= $2 ORDER BY key LIMIT $3`
	sqlScanAscBound  = `SELECT key, value, version FROM items WHERE tbl = $1 AND key >= $2 AND key < $4 ORDER BY key LIMIT $3`
	sqlScanDesc      = `SELECT key, value, version FROM items WHERE tbl = $1 AND key >= $2 ORDER BY key DESC LIMIT $3`
	sqlScanDescBound = `SELECT key, value, version FROM items WHERE tbl = $1 AND key >= $2 AND key < $4 ORDER BY key DESC LIMIT $3`
	sqlCount         = `SELECT count(*) FROM items WHERE tbl = $1 AND key >= $2`
	sqlCountBound    = `SELECT count(*) FROM items WHERE tbl = $1 AND key >= $2 AND key < $3`
)

var scanStatements = sqlkv.ScanStatements[string]{
	Asc: sqlScanAsc, AscBounded: sqlScanAscBound, Desc: sqlScanDesc, DescBounded: sqlScanDescBound,
}

type tx struct {
	sqlkv.TxState
	ptx   pgx.Tx
	scans sqlkv.Scanner
}

// bytes is s as a bytea argument: never nil, which pgx would send as NULL.
func bytes(s string) []byte { return append([]byte{}, s...) }

// queryRow runs q and scans its one row into dest, reporting whether there
// was a row.
func (t *tx) queryRow(q string, args []any, dest ...any) (bool, error) {
	err := t.ptx.QueryRow(t.Ctx, q, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (t *tx) Get(table, key string) (store.Item, error) {
	if err := t.CheckItem(table, key, false, store.AnyVersion); err != nil {
		return store.Item{}, err
	}
	it := store.Item{Key: key}
	found, err := t.queryRow(sqlGet, []any{table, bytes(key)}, &it.Value, &it.Version)
	switch {
	case err != nil:
		return store.Item{}, t.wrap("get", table, key, err)
	case !found:
		return store.Item{}, store.ErrNotFound
	}
	if it.Value == nil {
		it.Value = []byte{}
	}
	return it, nil
}

func (t *tx) Put(table, key string, value []byte, ifVersion int64) (int64, error) {
	if err := t.CheckItem(table, key, true, ifVersion); err != nil {
		return 0, err
	}
	if value == nil {
		value = []byte{}
	}
	args := []any{table, bytes(key), value}
	var q string
	switch {
	case ifVersion == store.AnyVersion:
		q = sqlUpsert
	case ifVersion == 0:
		q = sqlInsert
	case ifVersion > 0:
		q, args = sqlUpdateIf, append(args, ifVersion)
	default:
		return 0, fmt.Errorf("%w: ifVersion %d", store.ErrInvalid, ifVersion)
	}
	var version int64
	found, err := t.queryRow(q, args, &version)
	switch {
	case err != nil:
		return 0, t.wrap("put", table, key, err)
	case !found:
		return 0, store.ErrConflict
	}
	return version, nil
}

func (t *tx) Delete(table, key string, ifVersion int64) error {
	if err := t.CheckItem(table, key, true, ifVersion); err != nil {
		return err
	}
	// One statement either way: the conditional one also says whether the
	// item existed, which tells a changed item from a missing one. (Both
	// parts of it read the same snapshot, from before the DELETE.)
	args := []any{table, bytes(key)}
	var deleted, existed bool
	var err error
	if ifVersion == store.AnyVersion {
		var version int64
		deleted, err = t.queryRow(sqlDelete, args, &version)
		existed = deleted
	} else {
		_, err = t.queryRow(sqlDeleteIf, append(args, ifVersion), &deleted, &existed)
	}
	if err != nil {
		return t.wrap("delete", table, key, err)
	}
	if !existed {
		return store.ErrNotFound
	}
	if !deleted {
		return store.ErrConflict
	}
	return nil
}

func (t *tx) Count(table string, prefix string) (int, error) {
	if err := t.Check(table, false); err != nil {
		return 0, err
	}
	q, args := sqlCount, []any{table, bytes(prefix)}
	if hi, ok := sqlkv.PrefixEnd(prefix); ok {
		q, args = sqlCountBound, append(args, bytes(hi))
	}
	var n int64
	if _, err := t.queryRow(q, args, &n); err != nil {
		return 0, t.wrap("count", table, prefix, err)
	}
	return int(n), nil
}

func (t *tx) Scan(table string, opt store.ScanOptions, fn func(store.Item) error) error {
	if err := t.Check(table, false); err != nil {
		return err
	}
	return t.scans.Scan(t.Ctx, table, opt, t.readBatch, t.wrap, fn)
}

// readBatch is Scan's sqlkv.ReadBatch: one query, read to its end.
func (t *tx) readBatch(table string, b sqlkv.Bounds, reverse bool, want int, batch []store.Item) (_ []store.Item, more bool, err error) {
	q := scanStatements.For(b, reverse)
	args := []any{table, bytes(b.Lo), want}
	if b.HasHi {
		args = append(args, bytes(b.Hi))
	}
	rows, err := t.ptx.Query(t.Ctx, q, args...)
	if err != nil {
		return batch, false, err
	}
	defer rows.Close()
	size := 0
	for rows.Next() {
		var (
			key []byte
			it  store.Item
		)
		if err := rows.Scan(&key, &it.Value, &it.Version); err != nil {
			return batch, false, err
		}
		it.Key = string(key)
		if it.Value == nil {
			it.Value = []byte{}
		}
		batch = append(batch, it)
		if size += len(it.Value); size >= sqlkv.BatchBytes {
			return batch, true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return batch, false, err
	}
	return batch, len(batch) == want, nil
}

// wrap adds the operation and item to a driver error. A context error is
// returned as is, so callers can test it with errors.Is as usual; a
// serialization failure or deadlock is store.ErrConflict, so that
// UpdateRetry runs the transaction again.
func (t *tx) wrap(op, table, key string, err error) error {
	if ctxErr := t.Ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if isConflict(err) {
		t.Failed = fmt.Errorf("%w: postgres: %s %s/%q: %v", store.ErrConflict, op, table, key, err)
		return t.Failed
	}
	return fmt.Errorf("postgres: %s %s/%q: %w", op, table, key, err)
}
