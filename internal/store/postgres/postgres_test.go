package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"overcast/internal/store"
	"overcast/internal/store/postgres/pgtest"
	"overcast/internal/store/storetest"
)

func openTest(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	pg := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, pg.NewDatabase(t))
	})
}

// TestCrashRecovery is storetest.Crash on a database of a cluster this
// test starts (the child process reuses it).
func TestCrashRecovery(t *testing.T) {
	storetest.Crash(t,
		func(t *testing.T) string { return pgtest.Start(t).NewDatabase(t) },
		func(t testing.TB, url string) store.Store { return openTest(t, url) },
		nil)
}

func putOne(ctx context.Context, db *DB, key string) error {
	return db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put("t", key, []byte("v"), store.AnyVersion)
		return err
	})
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Start(t).NewDatabase(t)
	db := openTest(t, url)
	// Opening again (another replica, a restart) re-runs nothing.
	openTest(t, url).Close()
	// A later build adds migrations: only the new ones run, in order, and
	// a failing one leaves the schema as it was.
	more := append(migrations[:len(migrations):len(migrations)],
		`CREATE TABLE extra (id integer PRIMARY KEY)`,
		`INSERT INTO extra (id) VALUES (42)`,
	)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, conn, more); err != nil {
		t.Fatalf("migrate with new migrations: %v", err)
	}
	bad := append(more[:len(more):len(more)], `INSERT INTO extra (id) VALUES (43); SELECT * FROM no_such_table`)
	if err := migrate(ctx, conn, bad); err == nil {
		t.Fatal("failing migration: got nil error")
	}
	var rows, version int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM extra), (SELECT max(version) FROM schema_migrations)`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != int64(len(more)) {
		t.Errorf("after a failed migration: got %d rows at schema version %d, want 1 at %d", rows, version, len(more))
	}
	conn.Release()
	db.Close()

	// The database is now at a version this build does not know.
	_, err = Open(ctx, url)
	want := fmt.Sprintf("database is at version %d, this build knows versions up to %d", len(more), len(migrations))
	if !errors.Is(err, errSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Errorf("Open of newer schema: got %v, want errSchemaTooNew saying %q", err, want)
	}
}

func TestOpenUnreachable(t *testing.T) {
	pg := pgtest.Start(t)
	for name, url := range map[string]string{
		// Nothing listens on this socket directory.
		"no server":   "postgres://postgres:secret@/db?host=" + t.TempDir(),
		"no database": strings.Replace(pg.URL("nosuchdb"), "postgres@", "postgres:secret@", 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(context.Background(), url)
			if err == nil {
				t.Fatal("Open: got nil error")
			}
			t.Logf("Open: %v", err)
			if msg := err.Error(); !strings.Contains(msg, "cannot reach postgres@") || strings.Contains(msg, "secret") {
				t.Errorf("Open: got %q, want it to name the server, without the password", msg)
			}
		})
	}
	if _, err := Open(context.Background(), "postgres://%zz"); err == nil {
		t.Error("Open of a malformed URL: got nil error")
	}
}

// TestRecoversWhenServerReturns stops PostgreSQL under an open store:
// transactions fail meanwhile, and work again once it is back, with no
// reopening.
func TestRecoversWhenServerReturns(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	db := openTest(t, pg.NewDatabase(t))
	defer db.Close()
	if err := putOne(ctx, db, "before"); err != nil {
		t.Fatal(err)
	}
	pg.Stop(t)
	if err := putOne(ctx, db, "during"); err == nil {
		t.Fatal("Update with the server down: got nil error")
	}
	if err := db.View(ctx, func(tx store.Tx) error { _, err := tx.Get("t", "before"); return err }); err == nil {
		t.Fatal("View with the server down: got nil error")
	}
	pg.Resume(t)
	if err := putOne(ctx, db, "after"); err != nil {
		t.Fatalf("Update once the server is back: %v", err)
	}
	if err := db.View(ctx, func(tx store.Tx) error {
		n, err := tx.Count("t", "")
		if n != 2 {
			t.Errorf("Count: got %d, want 2 (before and after)", n)
		}
		return err
	}); err != nil {
		t.Fatalf("View once the server is back: %v", err)
	}
}

// TestNeighbourInsertsFinish: writers that each look a key up and insert it
// beside the others' keys would abort one another under SERIALIZABLE (their
// reads are tracked by index page); taking turns, every one commits at its
// first attempt.
func TestNeighbourInsertsFinish(t *testing.T) {
	db := openTest(t, pgtest.Start(t).NewDatabase(t))
	defer db.Close()
	const writers, keys = 16, 400
	work := make(chan string, keys)
	for i := range keys {
		work <- fmt.Sprintf("k/%03d", i)
	}
	close(work)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for key := range work {
				err := db.Update(context.Background(), func(tx store.Tx) error {
					if _, err := tx.Get("objects", key); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("Get: %v, want ErrNotFound", err)
					}
					_, err := tx.Put("objects", key, []byte("v"), 0)
					return err
				})
				if err != nil {
					t.Errorf("%s: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := db.View(context.Background(), func(tx store.Tx) (err error) {
		n, err = tx.Count("objects", "")
		return err
	}); err != nil || n != keys {
		t.Errorf("Count: %d, %v; want %d", n, err, keys)
	}
}
