package sqlite

import (
	"context"
	"errors"
	"fmt"
)

// migrations are the schema's history: migrations[i] brings the schema to
// version i+1. Append only; never edit an entry that has been released,
// since databases in the field have already run it.
var migrations = []string{
	// 1: the item table. WITHOUT ROWID stores rows in key order, so Get is
	// one b-tree search and scans read neighbouring rows from neighbouring
	// pages. BLOB keys compare with memcmp, which is Go's string order.
	`CREATE TABLE items (
		tbl     TEXT    NOT NULL,
		key     BLOB    NOT NULL,
		value   BLOB    NOT NULL,
		version INTEGER NOT NULL CHECK (version > 0),
		PRIMARY KEY (tbl, key)
	) WITHOUT ROWID`,
}

// errSchemaTooNew means the database was migrated by a newer overcast; old
// code must not write to a schema it does not know.
var errSchemaTooNew = errors.New("sqlite: database schema is newer than this build of overcast")

// migrate brings the database to len(migs), one transaction per migration
// so that a crash leaves it at a known version. BEGIN IMMEDIATE takes the
// write lock before the version is read, so two processes opening the same
// new file do not both apply a migration.
func migrate(ctx context.Context, c *conn, migs []string) error {
	if err := c.execSQL(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	// A database at this build's version, the usual case, is read without
	// the write lock, so that opening it does not wait behind another
	// process's long write (a second overcast, a test's own connection).
	if current, err := appliedVersion(ctx, c); err == nil && current == int64(len(migs)) {
		return nil
	}
	for {
		done, err := migrateOne(ctx, c, migs)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, or reports that there is none.
func migrateOne(ctx context.Context, c *conn, migs []string) (done bool, err error) {
	if err := c.execSQL(ctx, `BEGIN IMMEDIATE`); err != nil {
		return false, fmt.Errorf("sqlite: migrate: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			if rerr := c.execSQL(context.Background(), `ROLLBACK`); rerr != nil {
				err = errors.Join(err, fmt.Errorf("sqlite: rollback migration: %w", rerr))
			}
		}
	}()
	current, err := appliedVersion(ctx, c)
	if err != nil {
		return false, err
	}
	switch {
	case current > int64(len(migs)):
		return false, fmt.Errorf("%w: database is at version %d, this build knows versions up to %d",
			errSchemaTooNew, current, len(migs))
	case current == int64(len(migs)):
		return true, nil // the deferred ROLLBACK ends the empty transaction
	}
	next := current + 1
	if err := c.execSQL(ctx, migs[current]); err != nil {
		return false, fmt.Errorf("sqlite: migration %d: %w", next, err)
	}
	if err := c.execSQL(ctx, fmt.Sprintf(
		`INSERT INTO schema_migrations (version, applied_at) VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'))`,
		next)); err != nil {
		return false, fmt.Errorf("sqlite: record migration %d: %w", next, err)
	}
	if err := c.execSQL(ctx, `COMMIT`); err != nil {
		return false, fmt.Errorf("sqlite: commit migration %d: %w", next, err)
	}
	committed = true
	return false, nil
}

// appliedVersion is the last migration the database has applied.
func appliedVersion(ctx context.Context, c *conn) (int64, error) {
	v, err := c.querySQL(ctx, `SELECT ifnull(max(version), 0) FROM schema_migrations`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	current, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("sqlite: read schema version: got %T %v", v, v)
	}
	return current, nil
}
