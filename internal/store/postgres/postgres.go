package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"overcast/internal/store"
	"overcast/internal/store/sqlkv"
)

var _ store.Store = (*DB)(nil)

const (
	// defaultMaxConns bounds the pool unless the URL says pool_max_conns.
	// It is well above pgx's default (the CPUs, at least 4) because a View
	// holds its connection while its caller works, and many may be open at
	// once; PostgreSQL's default max_connections is 100.
	defaultMaxConns = 32
	// defaultConnectTimeout bounds each connection attempt unless the URL
	// says connect_timeout: an unreachable host then fails fast instead of
	// hanging a request (or Open) on the kernel's TCP timeout.
	defaultConnectTimeout = 5 * time.Second
	// openTimeout bounds Open's first contact when its ctx has no deadline.
	openTimeout = 15 * time.Second
)

// DB is a store.Store in a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	// where names the database in errors, without the password.
	where string

	// mu guards closed; running counts the transactions Close waits for.
	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup

	// seqs holds the *sequence of each name NextSeq or SettledSeq used.
	seqs sync.Map

	// writer holds a token while an Update of this process runs. Writers
	// here take turns, as on SQLite: SERIALIZABLE tracks reads by index
	// page, so concurrent writers that look keys up and insert beside
	// them (PUTs into one bucket, events into the outbox) abort one
	// another by the dozen, and their retries cost more than waiting in
	// line (800 such transactions from 16 goroutines: 0.72 s concurrent,
	// 0.46 s one at a time). Replicas still write concurrently, and
	// PostgreSQL catches their conflicts for UpdateRetry.
	writer chan struct{}
}

// Open connects to the database url names (a postgres:// URL or a
// key=value DSN, as libpq takes) and migrates its schema. It fails, naming
// the server, if the database cannot be reached, and if the schema is newer
// than this build knows.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns=") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	where := describe(cfg.ConnConfig)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s: %w", where, err)
	}
	err = migrate(ctx, conn, migrations)
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w (database %s)", err, where)
	}
	return &DB{pool: pool, where: where, writer: make(chan struct{}, 1)}, nil
}

// describe names a database for errors and logs: user@host:port/database,
// never the password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// String names the database, without the password.
func (db *DB) String() string { return "postgres " + db.where }

// View implements store.Store.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// Update implements store.Store. It waits its turn among this process's
// Updates (a View never waits).
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	select {
	case db.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-db.writer }()
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, true, fn)
}

// enter counts a transaction in, failing fast on a done context or a closed
// DB so that fn never starts in either case.
func (db *DB) enter(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db.running.Add(1)
	return nil
}

// run executes fn in a transaction with opts. A panic in fn unwinds through
// the deferred rollback and then carries on up the stack.
func (db *DB) run(ctx context.Context, opts pgx.TxOptions, writable bool, fn func(store.Tx) error) error {
	if err := db.enter(ctx); err != nil {
		return err
	}
	defer db.running.Done()
	ptx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("postgres: begin (%s): %w", db.where, err)
	}
	t := &tx{TxState: sqlkv.TxState{Ctx: ctx, Writable: writable}, ptx: ptx}
	committed := false
	defer func() {
		t.Done = true
		if !committed {
			// A background context: the rollback must run even when ctx is
			// what ended the transaction. If it fails, pgx closes the
			// connection and the pool replaces it.
			_ = ptx.Rollback(context.Background())
		}
	}()
	if err := fn(t); err != nil || !writable {
		return err // a View's snapshot ends with the deferred ROLLBACK
	}
	// The caller gave up while fn ran (a cancellation): commit nothing,
	// rather than report failure for a write that happened.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := ptx.Commit(context.Background()); err != nil {
		if isConflict(err) {
			return fmt.Errorf("%w: postgres: commit: %v", store.ErrConflict, err)
		}
		return fmt.Errorf("postgres: commit (%s): %w", db.where, err)
	}
	committed = true
	return nil
}

// Close implements store.Store: it stops new transactions, waits for running
// ones, and closes the pool.
func (db *DB) Close() error {
	db.mu.Lock()
	already := db.closed
	db.closed = true
	db.mu.Unlock()
	if already {
		return nil
	}
	db.running.Wait()
	db.pool.Close()
	return nil
}

// conflictCodes are the SQLSTATEs of a transaction PostgreSQL aborted to
// keep the isolation it promised: running it again may well succeed.
var conflictCodes = map[string]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
}

func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && conflictCodes[pe.Code]
}
