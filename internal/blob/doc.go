// Package blob keeps the bytes of large objects — S3 object data and
// multipart parts today, build artifacts and image layers later — apart
// from the metadata in package store.
//
// A blob is immutable and named by an opaque ID the store assigns: bytes
// are streamed into a Writer, and Commit makes them durable under that ID
// in one step. Callers record the ID in their metadata (in a store
// transaction) and Delete the blob once nothing refers to it. Because IDs
// never derive from user input (S3 keys, file names), no key — "../x",
// "/etc/passwd", 1,024 bytes of anything — can name a path outside the
// blob directory; IDs that are not well-formed are simply not found.
//
// Dir is the local-disk implementation: one file per blob under
// <dir>/data/<2 hex>/<32 hex>. A Writer streams to <dir>/tmp/<id>; Commit
// fsyncs the file, renames it into data/ and fsyncs the directory, so a
// committed blob survives a crash of the process or of the machine, and a
// blob is either complete or absent — never torn. Temporary files left by a
// crash are removed when the directory is opened again (one overcast owns a
// data dir at a time). Per-blob files rather than content addressing keep
// deletion trivial (no reference counts) at the price of not deduplicating
// identical uploads; copies use hard links where the store can (Cloner).
//
// An S3-compatible driver (for overcast beyond one machine) implements the
// same Store interface and must pass the conformance suite in blobtest.
package blob
