package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"overcast/internal/store"
)

var _ store.Sequencer = (*DB)(nil)

// A sequence is a PostgreSQL SEQUENCE: nextval is outside transactions, so
// writers taking numbers never conflict, unlike a counter row that every
// writer updates (under SERIALIZABLE, all but one of the concurrent
// writers would fail).
//
// Settling follows the transaction IDs. NextSeq makes its transaction take
// an ID before the number, so a transaction holding a number up to the
// sequence's last value L has an ID below any ID assigned after L was read:
// SettledSeq takes one, M, in a statement of its own. Once a later
// snapshot's xmin reaches M, every transaction with an ID below M has
// ended, and numbers up to L are settled. (A snapshot's xmax will not do
// for M: it is one past the last transaction to complete, and running
// transactions above it count toward neither its xmin nor its xmax.)
const (
	// The condition runs before the projection: the ID comes first.
	sqlNextSeq  = `SELECT nextval($1::regclass) WHERE pg_current_xact_id() IS NOT NULL`
	sqlRaiseSeq = `SELECT setval($1::regclass, $2) FROM %s WHERE NOT is_called OR last_value < $2`
	sqlSeqLast  = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s`
	sqlXid      = `SELECT pg_current_xact_id()::text::bigint`
	sqlXmin     = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
)

// maxMarks bounds the marks kept while a long transaction holds xmin back;
// past it the newest mark is replaced, which only delays settling.
const maxMarks = 64

// sequence is the state SettledSeq keeps for one sequence.
type sequence struct {
	ident string // the quoted SQL identifier

	created sync.Once
	err     error

	mu      sync.Mutex
	marks   []seqMark
	settled uint64
}

// seqMark is a last value read, settled once xmin reaches xid.
type seqMark struct{ last, xid uint64 }

// sequence returns the named sequence, creating it in the database the
// first time this DB uses it.
func (db *DB) sequence(ctx context.Context, name string) (*sequence, error) {
	v, _ := db.seqs.LoadOrStore(name, &sequence{ident: pgx.Identifier{"seq_" + name}.Sanitize()})
	s := v.(*sequence)
	s.created.Do(func() {
		// Under the migration lock, so that replicas creating it at once do
		// not trip over each other's catalog rows.
		s.err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLock)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS `+s.ident)
			return err
		})
		if s.err != nil {
			s.err = fmt.Errorf("postgres: create sequence %s: %w", name, s.err)
		}
	})
	if s.err != nil {
		// Not cached: a later call tries again.
		db.seqs.CompareAndDelete(name, s)
		return nil, s.err
	}
	return s, nil
}

// writeSeq returns stx as this package's transaction, if it can write,
// and the named sequence.
func (db *DB) writeSeq(stx store.Tx, name string) (*tx, *sequence, error) {
	t, ok := stx.(*tx)
	if !ok {
		return nil, nil, fmt.Errorf("%w: a transaction of another store", store.ErrInvalid)
	}
	if err := t.Check(name, true); err != nil {
		return nil, nil, err
	}
	s, err := db.sequence(t.Ctx, name)
	return t, s, err
}

// NextSeq implements store.Sequencer.
func (db *DB) NextSeq(stx store.Tx, name string) (uint64, error) {
	t, s, err := db.writeSeq(stx, name)
	if err != nil {
		return 0, err
	}
	var n int64
	if _, err := t.queryRow(sqlNextSeq, []any{s.ident}, &n); err != nil {
		return 0, t.wrap("nextval", name, "", err)
	}
	return uint64(n), nil
}

// RaiseSeq implements store.Sequencer.
func (db *DB) RaiseSeq(stx store.Tx, name string, n uint64) error {
	t, s, err := db.writeSeq(stx, name)
	if err != nil || n == 0 {
		return err
	}
	// One statement, so that a NextSeq elsewhere between the test and the
	// set cannot be undone by it.
	if _, err := t.ptx.Exec(t.Ctx, fmt.Sprintf(sqlRaiseSeq, s.ident), s.ident, int64(n)); err != nil {
		return t.wrap("setval", name, "", err)
	}
	return nil
}

// SettledSeq implements store.Sequencer.
func (db *DB) SettledSeq(ctx context.Context, name string) (uint64, error) {
	if err := db.enter(ctx); err != nil {
		return 0, err
	}
	defer db.running.Done()
	s, err := db.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return s.settled, fmt.Errorf("postgres: %s: %w", db.where, err)
	}
	defer conn.Release()
	// Three statements, each its own transaction, in this order: the last
	// value, then an ID, then a snapshot to check the marks against.
	var last, xid, xmin int64
	for _, q := range []struct {
		sql  string
		dest *int64
	}{{fmt.Sprintf(sqlSeqLast, s.ident), &last}, {sqlXid, &xid}, {sqlXmin, &xmin}} {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.dest); err != nil {
			return s.settled, fmt.Errorf("postgres: sequence %s: %w", name, err)
		}
	}
	m := seqMark{last: uint64(last), xid: uint64(xid)}
	if len(s.marks) < maxMarks {
		s.marks = append(s.marks, m)
	} else {
		s.marks[len(s.marks)-1] = m
	}
	// Marks are in the order taken, so their IDs only grow.
	i := 0
	for ; i < len(s.marks) && s.marks[i].xid < uint64(xmin); i++ {
		s.settled = max(s.settled, s.marks[i].last)
	}
	s.marks = append(s.marks[:0], s.marks[i:]...)
	return s.settled, nil
}
