// Package store is overcast's persistence interface: an ordered key-value
// store of documents, grouped into named tables, with serializable
// transactions and optimistic concurrency through per-item versions.
//
// Why this shape rather than one SQL table per AWS resource:
//
//   - Every service stores records it already has in Go structs, so the store
//     only needs to keep opaque bytes (JSON in practice, see GetJSON and
//     PutJSON) under a key. Listing APIs are prefix scans in key order, and
//     AWS pagination tokens map directly onto ScanOptions.After.
//   - The whole store is two tables (items and schema_migrations) and a
//     handful of SQL statements that look the same in SQLite and in
//     PostgreSQL. A PostgreSQL implementation is the same statements with $n
//     placeholders and bytea keys, and it must pass the same conformance
//     suite (package storetest). Nothing SQLite-specific appears here.
//   - Versions give services compare-and-swap without holding a transaction
//     open across a slow operation: read, do the work, then Put with the
//     version read, and UpdateRetry when another writer won the race.
//
// Keys compare byte-wise, exactly like Go's string comparison, so keys built
// from UTF-8 names sort by code point and "a" < "a/" < "a0" < "ab".
package store
