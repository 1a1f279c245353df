// Package sqlite implements store.Store on SQLite (modernc.org/sqlite, pure
// Go, so the overcast binary needs no cgo). It is the only package importing
// that driver.
//
// The layout is the one any SQL backend can share: a single
// items(tbl, key, value, version) table keyed by (tbl, key), plus
// schema_migrations. Keys are BLOBs so that SQLite orders them with memcmp,
// which is Go's string order, including for bytes that are not valid UTF-8.
// Every operation is one prepared statement, and the statements avoid
// SQLite-only features except RETURNING and ON CONFLICT, which PostgreSQL
// spells the same way.
//
// Concurrency follows SQLite's strengths instead of fighting its locking:
//
//   - One writer connection, guarded by a one-slot semaphore, runs every
//     Update inside BEGIN IMMEDIATE. Writers queue in Go (where waiting
//     respects the context) and never see SQLITE_BUSY. With a single writer
//     a read-modify-write inside one Update cannot conflict; ErrConflict only
//     arises when the read happened in an earlier transaction.
//   - A pool of read-only connections serves View. In WAL mode readers see a
//     snapshot and neither block nor are blocked by the writer.
//   - WAL with synchronous=NORMAL: a commit is durable once it returns as far
//     as a process crash (kill -9) is concerned, which is overcast's promise;
//     only an OS crash or power loss may drop the last commits.
//
// The driver is used below database/sql, directly through database/sql/driver
// interfaces: the pool above needs a fixed connection per transaction anyway,
// and skipping database/sql's own pool and per-row bookkeeping is what keeps a
// View with one Get under ten microseconds.
package sqlite
