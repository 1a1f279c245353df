package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"

	"overcast/internal/store"
	"overcast/internal/store/sqlkv"

	"modernc.org/sqlite"
)

var _ store.Store = (*DB)(nil)

// busyTimeoutMS bounds how long a connection waits for a lock held by
// another process (a second overcast on the same file, or the sqlite3 CLI).
// Inside one process writers queue on writerSem and never wait here.
const busyTimeoutMS = 5000

// Every connection sets these. synchronous=NORMAL in WAL mode skips the
// fsync per commit but still survives a crash of this process.
//
// The file is not memory-mapped (mmap_size stays 0). A commit makes every
// other connection of the file unmap it at its next read, and map it again
// and fault in each page it touches: with 20 writes a second beside S3
// GETs, a GET took 4.2 page faults and about twice the CPU it takes when
// reads go through each connection's page cache. Mapping wins only where
// nothing writes.
var connSetup = []string{
	fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeoutMS),
	`PRAGMA foreign_keys = ON`,
	`PRAGMA synchronous = NORMAL`,
}

// Readers additionally refuse writes at the SQLite level, so a bug in this
// package cannot write outside the writer's transaction.
var readerSetup = append(connSetup[:len(connSetup):len(connSetup)], `PRAGMA query_only = ON`)

// DB is a store.Store in one SQLite database file.
type DB struct {
	connector driver.Connector

	// writerSem holds the single writer; an Update owns the writer while it
	// holds the token. writer is nil after a failure made it unusable, and
	// reopened by the next Update.
	writerSem chan struct{}
	writer    *conn

	// idle holds reader connections not in use; slots holds one token per
	// reader that may still be opened. Together they bound the readers at
	// cap(slots), and Close drains both to know every reader is back.
	idle  chan *conn
	slots chan struct{}

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating it if needed) the database at path and migrates its
// schema. It fails if the schema is newer than this build knows.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// A file: URI, so that a path containing '?' or '#' still names a file.
	dsn := (&url.URL{Scheme: "file", Path: abs}).String()
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers are opened on demand, so a generous bound costs nothing until
	// used; it must exceed the CPUs because a View may hold its connection
	// while its goroutine is descheduled.
	readers := max(16, 2*runtime.GOMAXPROCS(0))
	db := &DB{
		connector: connector,
		writerSem: make(chan struct{}, 1),
		idle:      make(chan *conn, readers),
		slots:     make(chan struct{}, readers),
		closing:   make(chan struct{}),
	}
	for range readers {
		db.slots <- struct{}{}
	}
	w, err := db.openWriter(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.writer = w
	return db, nil
}

// openWriter opens the writer connection; with doMigrate it first brings the
// schema up to date, which only Open needs.
func (db *DB) openWriter(ctx context.Context, doMigrate bool) (*conn, error) {
	c, err := openConn(ctx, db.connector, connSetup)
	if err != nil {
		return nil, err
	}
	// journal_mode is a property of the file, set once by the writer; a
	// filesystem that cannot do WAL (some network mounts) answers with the
	// old mode instead of failing, so check.
	mode, err := c.querySQL(ctx, `PRAGMA journal_mode = WAL`)
	if err == nil && mode != "wal" {
		err = fmt.Errorf("journal_mode is %v, want wal", mode)
	}
	if err == nil && doMigrate {
		err = migrate(ctx, c, migrations)
	}
	if err == nil {
		err = c.prepare(ctx)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// View implements store.Store.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := db.live(ctx); err != nil {
		return err
	}
	c, err := db.acquireReader(ctx)
	if err != nil {
		return err
	}
	return db.run(ctx, c, false, fn)
}

// Update implements store.Store.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := db.live(ctx); err != nil {
		return err
	}
	select {
	case db.writerSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return store.ErrClosed
	}
	// Close waits on writerSem too, so the writer cannot be closed under us.
	if db.writer == nil {
		w, err := db.openWriter(ctx, false)
		if err != nil {
			<-db.writerSem
			return fmt.Errorf("sqlite: reopen writer: %w", err)
		}
		db.writer = w
	}
	return db.run(ctx, db.writer, true, fn)
}

// live fails fast on a done context or a closed DB, so fn never starts in
// either case even if a connection happens to be free.
func (db *DB) live(ctx context.Context) error {
	select {
	case <-db.closing:
		return store.ErrClosed
	default:
	}
	return ctx.Err()
}

// run executes fn in a transaction on c and gives c back (to the pool or the
// writer slot) when done. A panic in fn unwinds through the deferred
// rollback and then carries on up the stack.
func (db *DB) run(ctx context.Context, c *conn, writable bool, fn func(store.Tx) error) (err error) {
	ok := false // c is in a known state: no transaction open
	defer func() { db.release(c, writable, ok) }()

	// A deferred BEGIN takes no lock and cannot wait, so it need not watch
	// ctx (watching costs the driver a goroutine per statement); BEGIN
	// IMMEDIATE may wait for another process's write lock.
	begin, beginCtx := stmtBegin, context.Background()
	if writable {
		begin, beginCtx = stmtBeginImmediate, ctx
	}
	if err := c.exec(beginCtx, begin); err != nil {
		// BEGIN failing leaves no transaction behind (SQLite starts none).
		ok = true
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	t := &tx{TxState: sqlkv.TxState{Ctx: ctx, Writable: writable}, c: c}
	committed := false
	defer func() {
		t.Done = true
		if committed {
			return
		}
		// A background context: the rollback must run even when ctx is
		// what ended the transaction. If it fails, c's state is unknown and
		// release discards it.
		if rerr := c.exec(context.Background(), stmtRollback); rerr == nil {
			ok = true
		}
	}()

	if err := fn(t); err != nil {
		return err
	}
	if !writable {
		return nil // the deferred ROLLBACK just ends the read snapshot
	}
	// A cancellation that arrived while fn ran means the caller has given up;
	// committing anyway would report failure for a write that happened.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.exec(context.Background(), stmtCommit); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed, ok = true, true
	return nil
}

func (db *DB) release(c *conn, writer, ok bool) {
	if !ok {
		c.close()
		c = nil
	}
	if writer {
		db.writer = c
		<-db.writerSem
		return
	}
	if c == nil {
		db.slots <- struct{}{}
		return
	}
	db.idle <- c
}

// acquireReader returns an idle reader, opens one if the pool has room, or
// waits for one to come back.
func (db *DB) acquireReader(ctx context.Context) (*conn, error) {
	select {
	case c := <-db.idle:
		return c, nil
	default:
	}
	select {
	case c := <-db.idle:
		return c, nil
	case <-db.slots:
		c, err := db.openReader(ctx)
		if err != nil {
			db.slots <- struct{}{}
			return nil, fmt.Errorf("sqlite: open reader: %w", err)
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.closing:
		return nil, store.ErrClosed
	}
}

func (db *DB) openReader(ctx context.Context) (*conn, error) {
	c, err := openConn(ctx, db.connector, readerSetup)
	if err != nil {
		return nil, err
	}
	if err := c.prepare(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// Close implements store.Store: it stops new transactions, waits for running
// ones, and closes every connection. The writer goes last, so that SQLite
// checkpoints the WAL into the main file and removes it.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		var errs []error
		for range cap(db.slots) {
			select {
			case c := <-db.idle:
				errs = append(errs, c.close())
			case <-db.slots:
			}
		}
		db.writerSem <- struct{}{}
		if db.writer != nil {
			errs = append(errs, db.writer.close())
			db.writer = nil
		}
		if err := errors.Join(errs...); err != nil {
			db.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return db.closeErr
}
