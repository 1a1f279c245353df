package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// stmtID names one of the statements every connection prepares once.
type stmtID int

const (
	stmtBegin stmtID = iota
	stmtBeginImmediate
	stmtCommit
	stmtRollback
	stmtGet
	stmtVersion
	stmtInsert
	stmtUpsert
	stmtUpdateIf
	stmtDelete
	stmtDeleteIf
	stmtScanAsc
	stmtScanAscBounded
	stmtScanDesc
	stmtScanDescBounded
	stmtCount
	stmtCountBounded
	numStmts
)

// statements are the whole data-access vocabulary. Lower key bounds are
// inclusive and wrapped in ifnull, defaulting to the empty BLOB, because the
// driver binds an empty []byte as NULL; upper bounds are exclusive and, when
// there is none, a separate statement leaves them out (nothing sorts above
// every BLOB). Values get the same ifnull, so an empty value is stored as an
// empty BLOB rather than violating NOT NULL.
var statements = [numStmts]string{
	stmtBegin:          `BEGIN`,
	stmtBeginImmediate: `BEGIN IMMEDIATE`,
	stmtCommit:         `COMMIT`,
	stmtRollback:       `ROLLBACK`,
	stmtGet:            `SELECT value, version FROM items WHERE tbl = ?1 AND key = ?2`,
	stmtVersion:        `SELECT version FROM items WHERE tbl = ?1 AND key = ?2`,
	stmtInsert: `INSERT INTO items (tbl, key, value, version) VALUES (?1, ?2, ifnull(?3, x''), 1)
		ON CONFLICT (tbl, key) DO NOTHING RETURNING version`,
	stmtUpsert: `INSERT INTO items (tbl, key, value, version) VALUES (?1, ?2, ifnull(?3, x''), 1)
		ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value, version = items.version + 1
		RETURNING version`,
	stmtUpdateIf: `UPDATE items SET value = ifnull(?3, x''), version = version + 1
		WHERE tbl = ?1 AND key = ?2 AND version = ?4 RETURNING version`,
	stmtDelete:   `DELETE FROM items WHERE tbl = ?1 AND key = ?2 RETURNING version`,
	stmtDeleteIf: `DELETE FROM items WHERE tbl = ?1 AND key = ?2 AND version = ?3 RETURNING version`,
	stmtScanAsc: `SELECT key, value, version FROM items
		WHERE tbl = ?1 AND key >= ifnull(?2, x'') ORDER BY key LIMIT ?3`,
	stmtScanAscBounded: `SELECT key, value, version FROM items
		WHERE tbl = ?1 AND key >= ifnull(?2, x'') AND key < ?4 ORDER BY key LIMIT ?3`,
	stmtScanDesc: `SELECT key, value, version FROM items
		WHERE tbl = ?1 AND key >= ifnull(?2, x'') ORDER BY key DESC LIMIT ?3`,
	stmtScanDescBounded: `SELECT key, value, version FROM items
		WHERE tbl = ?1 AND key >= ifnull(?2, x'') AND key < ?4 ORDER BY key DESC LIMIT ?3`,
	stmtCount:        `SELECT count(*) FROM items WHERE tbl = ?1 AND key >= ifnull(?2, x'')`,
	stmtCountBounded: `SELECT count(*) FROM items WHERE tbl = ?1 AND key >= ifnull(?2, x'') AND key < ?3`,
}

// conn is one SQLite connection with its prepared statements. It is used by
// one goroutine at a time: the writer semaphore or the reader pool hands it out.
type conn struct {
	raw   driver.Conn
	stmts [numStmts]driver.Stmt
	// args is reused by every call so binding does not allocate a slice; the
	// driver copies bound values into SQLite before Query returns.
	args []driver.NamedValue
	dest [3]driver.Value
}

func openConn(ctx context.Context, connector driver.Connector, setup []string) (*conn, error) {
	raw, err := connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c := &conn{raw: raw, args: make([]driver.NamedValue, 0, 4)}
	for _, q := range setup {
		if err := c.execSQL(ctx, q); err != nil {
			c.close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return c, nil
}

// prepare readies every statement. It runs after migrations, since
// preparing a statement on a missing table fails.
func (c *conn) prepare(ctx context.Context) error {
	pc := c.raw.(driver.ConnPrepareContext)
	for id, q := range statements {
		s, err := pc.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		c.stmts[id] = s
	}
	return nil
}

func (c *conn) close() error {
	var errs []error
	for i, s := range c.stmts {
		if s != nil {
			errs = append(errs, s.Close())
			c.stmts[i] = nil
		}
	}
	errs = append(errs, c.raw.Close())
	return errors.Join(errs...)
}

// execSQL runs unprepared SQL, possibly several statements; for setup and
// migrations only.
func (c *conn) execSQL(ctx context.Context, q string) error {
	_, err := c.raw.(driver.ExecerContext).ExecContext(ctx, q, nil)
	return err
}

// querySQL runs unprepared SQL returning at most one row of one column.
func (c *conn) querySQL(ctx context.Context, q string) (driver.Value, error) {
	rows, err := c.raw.(driver.QueryerContext).QueryContext(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	dest := make([]driver.Value, len(rows.Columns()))
	if ok, err := readFirstRow(rows, dest); !ok {
		return nil, err
	}
	return dest[0], nil
}

// readFirstRow reads the first row of rows into dest and closes rows,
// reporting whether there was one.
func readFirstRow(rows driver.Rows, dest []driver.Value) (bool, error) {
	err := rows.Next(dest)
	cerr := rows.Close()
	switch {
	case err == io.EOF:
		return false, cerr
	case err != nil:
		return false, err
	case cerr != nil:
		return false, cerr
	}
	return true, nil
}

func (c *conn) bind(args []driver.Value) []driver.NamedValue {
	nv := c.args[:0]
	for i, a := range args {
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	c.args = nv
	return nv
}

// exec runs a prepared statement that returns no rows.
func (c *conn) exec(ctx context.Context, id stmtID, args ...driver.Value) error {
	_, err := c.stmts[id].(driver.StmtExecContext).ExecContext(ctx, c.bind(args))
	return err
}

// query runs a prepared statement; the caller must Close the rows before
// running another statement.
func (c *conn) query(ctx context.Context, id stmtID, args ...driver.Value) (driver.Rows, error) {
	return c.stmts[id].(driver.StmtQueryContext).QueryContext(ctx, c.bind(args))
}

// queryRow runs a prepared statement and reads its first row into c.dest,
// reporting whether there was one. Reading one row of a RETURNING statement
// is enough: SQLite applies the whole change on the first step.
func (c *conn) queryRow(ctx context.Context, id stmtID, args ...driver.Value) (bool, error) {
	rows, err := c.query(ctx, id, args...)
	if err != nil {
		return false, err
	}
	return readFirstRow(rows, c.dest[:len(rows.Columns())])
}
