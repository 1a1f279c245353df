package store

import (
	"context"
	"errors"
)

var (
	// ErrNotFound means the item does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means an ifVersion condition did not hold: the item changed
	// (or appeared, or vanished) since the caller read it.
	ErrConflict = errors.New("store: version conflict")
	// ErrReadOnly is returned by writes attempted inside View.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrStop, returned by a Scan callback, ends the scan early; Scan then
	// returns nil.
	ErrStop = errors.New("store: stop scan")
	// ErrInvalid is returned (wrapped, with details) for arguments no
	// implementation can accept: an empty table name or key, an ifVersion
	// below AnyVersion, a negative Limit.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrTxDone is returned by a Tx used after its View or Update returned.
	ErrTxDone = errors.New("store: transaction has already finished")
	// ErrClosed is returned by View and Update after Close.
	ErrClosed = errors.New("store: closed")
)

// AnyVersion as ifVersion makes Put and Delete unconditional.
const AnyVersion int64 = -1

// Item is one stored document.
type Item struct {
	Key   string
	Value []byte
	// Version is 1 when the item is created and grows by one on every Put.
	// Deleting an item forgets its version: a re-created item starts at 1
	// again, so a version is only meaningful while the item exists.
	Version int64
}

// Store is a transactional ordered key-value store. Implementations are safe
// for concurrent use.
//
// Updates are serializable: each sees all or none of any other Update's
// writes. An implementation whose Updates run concurrently (PostgreSQL at
// SERIALIZABLE, across processes) reports a serialization failure as ErrConflict, which
// UpdateRetry retries like any lost race. A View sees one consistent
// snapshot, including every Update that returned before it started, for its
// whole duration. Do not call Update from inside another Update's fn on the
// same Store: an implementation may serialize writers and deadlock.
type Store interface {
	// View runs fn in a read-only snapshot transaction. Writes fail with
	// ErrReadOnly. The error fn returns is returned unchanged.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits iff fn returns
	// nil and ctx is still live. If fn returns an error or panics, every write
	// is rolled back; the error is returned unchanged, the panic resumes.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close waits for running transactions and releases resources.
	Close() error
}

// Tx is a transaction, valid only until the View or Update that created it
// returns, and only for the goroutine running fn. Tables need not be created:
// a table exists while it holds items.
type Tx interface {
	// Get returns the item or ErrNotFound.
	Get(table, key string) (Item, error)
	// Put stores value and returns the item's new version. ifVersion is a
	// condition: AnyVersion (none), 0 (the item must not exist), or n (the
	// item's current version must be n). A failed condition is ErrConflict
	// and leaves the transaction usable.
	Put(table, key string, value []byte, ifVersion int64) (int64, error)
	// Delete removes the item: ErrNotFound if it does not exist (whatever
	// ifVersion is), ErrConflict if ifVersion is not AnyVersion and differs
	// from the current version.
	Delete(table, key string, ifVersion int64) error
	// Scan calls fn for each item of table matching opt, in byte-wise key
	// order (descending if opt.Reverse). fn returning ErrStop ends the scan
	// and Scan returns nil; any other error ends it and is returned
	// unchanged. fn may use the Tx, including to write: writes to keys the
	// scan has not reached yet may or may not be seen by it.
	Scan(table string, opt ScanOptions, fn func(Item) error) error
	// Count returns the number of items in table whose key starts with
	// prefix ("" counts the whole table).
	Count(table string, prefix string) (int, error)
}

// ScanOptions selects the items a Scan visits.
type ScanOptions struct {
	// Prefix restricts the scan to keys starting with it.
	Prefix string
	// After, if not empty, is an exclusive bound: the scan starts after it,
	// or, when Reverse, stops before reaching it from above (only keys less
	// than After are visited). It need not exist, which is what makes it a
	// pagination token: pass the last key of the previous page.
	After string
	// Limit caps the number of items visited; 0 means no limit.
	Limit int
	// Reverse visits keys in descending order.
	Reverse bool
}
