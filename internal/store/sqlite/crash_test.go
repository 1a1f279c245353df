package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"overcast/internal/store"
	"overcast/internal/store/storetest"
)

// TestCrashRecovery is storetest.Crash on one database file, with SQLite's
// own integrity check after each crash.
func TestCrashRecovery(t *testing.T) {
	storetest.Crash(t,
		func(t *testing.T) string { return filepath.Join(t.TempDir(), "crash.db") },
		func(t testing.TB, path string) store.Store { return openTest(t, path) },
		func(t *testing.T, s store.Store) {
			withWriter(t, s.(*DB), func(c *conn) {
				got, err := c.querySQL(context.Background(), `PRAGMA integrity_check`)
				if err != nil || got != "ok" {
					t.Fatalf("integrity_check: got %v, %v, want ok", got, err)
				}
			})
		})
}
