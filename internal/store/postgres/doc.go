// Package postgres implements store.Store on PostgreSQL through pgx's
// connection pool: the state of several overcast processes that share one
// database, or of one that must outlive its machine. It is the only package
// importing pgx.
//
// The layout is sqlite's: one items(tbl, key, value, version) table keyed
// by (tbl, key), plus schema_migrations. Keys are bytea, which PostgreSQL
// compares byte-wise whatever the collation, so scans come back in Go's
// string order, including for bytes that are not valid UTF-8.
//
// Within one process Updates take turns, as on SQLite; the processes
// sharing the database write concurrently. Updates run at SERIALIZABLE, so
// each behaves as if it ran alone; when PostgreSQL cannot keep that promise
// it aborts one transaction with a serialization failure (or a deadlock),
// which Update reports as store.ErrConflict for store.UpdateRetry to run
// again. A transaction aborted so reports that conflict from every later
// call, too. Views run at REPEATABLE READ READ ONLY:
// one snapshot for the whole View, never blocking or blocked by writers.
//
// The pool opens connections as it needs them and replaces broken ones, so
// a database that goes away makes the transactions of that moment fail
// and the next ones work once it is back, with no restart.
package postgres
