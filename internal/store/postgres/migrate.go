package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema's history: migrations[i] brings the schema to
// version i+1. Append only; never edit an entry that has been released,
// since databases in the field have already run it.
var migrations = []string{
	// 1: the item table, sqlite's with PostgreSQL's types. bytea keys
	// compare byte-wise, which is Go's string order; the primary key's
	// b-tree serves Get, scans and counts.
	`CREATE TABLE items (
		tbl     text   NOT NULL,
		key     bytea  NOT NULL,
		value   bytea  NOT NULL,
		version bigint NOT NULL CHECK (version > 0),
		PRIMARY KEY (tbl, key)
	)`,
}

// errSchemaTooNew means the database was migrated by a newer overcast; old
// code must not write to a schema it does not know.
var errSchemaTooNew = errors.New("postgres: database schema is newer than this build of overcast")

// migrationLock is the advisory lock key that serializes migrations among
// overcast processes sharing the database ("overcast" in ASCII).
const migrationLock int64 = 0x6f76657263617374

// migrate brings the database to len(migs) in one transaction, under an
// advisory lock so that replicas starting together do not both apply a
// migration. PostgreSQL's DDL is transactional: a failing migration
// leaves the schema as it was.
func migrate(ctx context.Context, conn interface {
	Begin(context.Context) (pgx.Tx, error)
}, migs []string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	steps := []string{
		fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLock),
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    bigint      PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
	}
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	var current int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	if current > int64(len(migs)) {
		return fmt.Errorf("%w: database is at version %d, this build knows versions up to %d",
			errSchemaTooNew, current, len(migs))
	}
	for v := current + 1; v <= int64(len(migs)); v++ {
		if _, err := tx.Exec(ctx, migs[v-1]); err != nil {
			return fmt.Errorf("postgres: migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			return fmt.Errorf("postgres: record migration %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit migrations: %w", err)
	}
	return nil
}
