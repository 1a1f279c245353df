package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/store"
	"overcast/internal/store/storetest"
)

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "overcast.db"))
	})
}

func TestReopenKeepsData(t *testing.T) {
	// A path with characters that mean something in a URI.
	path := filepath.Join(t.TempDir(), "a dir?#%", "state.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db := openTest(t, path)
	if err := db.Update(ctx, func(tx store.Tx) error {
		for i := range 100 {
			if _, err := tx.Put("t", fmt.Sprintf("k%03d", i), []byte("v"), store.AnyVersion); err != nil {
				return err
			}
		}
		_, err := tx.Put("t", "k000", []byte("v2"), store.AnyVersion)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}

	db = openTest(t, path)
	defer db.Close()
	if err := db.View(ctx, func(tx store.Tx) error {
		it, err := tx.Get("t", "k000")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(store.Item{Key: "k000", Value: []byte("v2"), Version: 2}, it); diff != "" {
			t.Errorf("item after reopen (-want +got):\n%s", diff)
		}
		n, err := tx.Count("t", "")
		if n != 100 {
			t.Errorf("Count after reopen: got %d, want 100", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := schemaVersion(t, db); got != int64(len(migrations)) {
		t.Errorf("schema version: got %d, want %d", got, len(migrations))
	}
}

func schemaVersion(t *testing.T, db *DB) int64 {
	t.Helper()
	var v int64
	withWriter(t, db, func(c *conn) {
		got, err := c.querySQL(context.Background(), `SELECT max(version) FROM schema_migrations`)
		if err != nil {
			t.Fatal(err)
		}
		v = got.(int64)
	})
	return v
}

// withWriter lends the test the writer connection, outside any transaction.
func withWriter(t *testing.T, db *DB, fn func(c *conn)) {
	t.Helper()
	db.writerSem <- struct{}{}
	defer func() { <-db.writerSem }()
	fn(db.writer)
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db := openTest(t, path)
	withWriter(t, db, func(c *conn) {
		// Re-running the known migrations is a no-op.
		if err := migrate(ctx, c, migrations); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		// A later build adds migrations: only the new ones run, in order.
		more := append(migrations[:len(migrations):len(migrations)],
			`CREATE TABLE extra (id INTEGER PRIMARY KEY)`,
			`INSERT INTO extra (id) VALUES (42)`,
		)
		if err := migrate(ctx, c, more); err != nil {
			t.Fatalf("migrate with new migrations: %v", err)
		}
		v, err := c.querySQL(ctx, `SELECT id FROM extra`)
		if err != nil || v != int64(42) {
			t.Errorf("extra table: got %v, %v, want 42", v, err)
		}
		// A failing migration is rolled back whole and not recorded.
		bad := append(more[:len(more):len(more)], `INSERT INTO extra (id) VALUES (43); SELECT * FROM no_such_table`)
		if err := migrate(ctx, c, bad); err == nil {
			t.Fatal("failing migration: got nil error")
		}
		if v, err := c.querySQL(ctx, `SELECT count(*) FROM extra`); err != nil || v != int64(1) {
			t.Errorf("rows after failed migration: got %v, %v, want 1", v, err)
		}
		if v, err := c.querySQL(ctx, `SELECT max(version) FROM schema_migrations`); err != nil || v != int64(len(more)) {
			t.Errorf("schema version after failed migration: got %v, %v, want %d", v, err, len(more))
		}
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The file is now at a version this build does not know.
	_, err := Open(ctx, path)
	if !errors.Is(err, errSchemaTooNew) {
		t.Fatalf("Open of newer schema: got %v, want errSchemaTooNew", err)
	}
	if want := fmt.Sprintf("database is at version %d, this build knows versions up to %d", len(migrations)+2, len(migrations)); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestPragmas(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "p.db"))
	defer db.Close()
	ctx := context.Background()
	want := map[string]any{
		"journal_mode": "wal",
		"synchronous":  int64(1), // NORMAL
		"foreign_keys": int64(1),
		"busy_timeout": int64(busyTimeoutMS),
	}
	withWriter(t, db, func(c *conn) {
		for pragma, w := range want {
			got, err := c.querySQL(ctx, "PRAGMA "+pragma)
			if err != nil || got != w {
				t.Errorf("writer PRAGMA %s: got %v, %v, want %v", pragma, got, err, w)
			}
		}
	})
	r, err := db.acquireReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.release(r, false, true)
	want["query_only"] = int64(1)
	for pragma, w := range want {
		got, err := r.querySQL(ctx, "PRAGMA "+pragma)
		if err != nil || got != w {
			t.Errorf("reader PRAGMA %s: got %v, %v, want %v", pragma, got, err, w)
		}
	}
}

// TestBrokenConnectionIsReplaced ends a transaction behind the store's back,
// so that its ROLLBACK fails: the connection must be discarded and replaced,
// not handed to the next transaction in an unknown state.
func TestBrokenConnectionIsReplaced(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	sabotage := func(stx store.Tx) error {
		c := stx.(*tx).c
		if err := c.execSQL(ctx, `COMMIT`); err != nil {
			t.Fatalf("sabotage: %v", err)
		}
		return errors.New("fail so that the store rolls back")
	}
	for range 3 {
		if err := db.Update(ctx, sabotage); err == nil {
			t.Fatal("Update: got nil error")
		}
		if db.writer != nil {
			t.Error("writer kept after a failed rollback")
		}
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put("t", "k", []byte("v"), store.AnyVersion)
			return err
		}); err != nil {
			t.Fatalf("Update after broken writer: %v", err)
		}
	}
	for range cap(db.slots) + 1 {
		if err := db.View(ctx, sabotage); err == nil {
			t.Fatal("View: got nil error")
		}
	}
	if got := len(db.slots) + len(db.idle); got != cap(db.slots) {
		t.Errorf("reader pool: got %d free slots and idle readers, want %d", got, cap(db.slots))
	}
	if err := db.View(ctx, func(tx store.Tx) error { _, err := tx.Get("t", "k"); return err }); err != nil {
		t.Errorf("View after broken readers: %v", err)
	}
}

// TestOpenDoesNotWaitForAWriter: opening a database already at this
// build's schema takes no write lock, so it does not wait behind a long
// transaction of another handle (another process, in overcast's case).
func TestOpenDoesNotWaitForAWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "overcast.db")
	db := openTest(t, path)
	release, holding := make(chan struct{}), make(chan struct{})
	writing := make(chan error, 1)
	go func() {
		writing <- db.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put("t", "k", []byte("v"), store.AnyVersion); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	opened := make(chan error, 1)
	go func() {
		second, err := Open(ctx, path)
		if err == nil {
			second.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Errorf("Open beside a writer: %v", err)
		}
		close(release)
	case <-time.After(3 * time.Second):
		t.Error("Open waited for another handle's write transaction")
		close(release)
		<-opened
	}
	if err := <-writing; err != nil {
		t.Fatal(err)
	}
}
