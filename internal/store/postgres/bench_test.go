package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"overcast/internal/store"
	"overcast/internal/store/postgres/pgtest"
	"overcast/internal/store/sqlite"
)

// BenchmarkVersusSQLite measures the two operations nearly every API call
// is made of, on PostgreSQL (a local cluster over its unix socket) and on
// SQLite side by side in one run: a View reading one item, and an Update
// writing one, over 10,000 items of 200 bytes.
//
//	go test -run '^$' -bench VersusSQLite ./internal/store/postgres/
func BenchmarkVersusSQLite(b *testing.B) {
	pg := pgtest.Start(b)
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
		{"postgres", func(b *testing.B) store.Store { return openTest(b, pg.NewDatabase(b)) }},
	}
	const items = 10_000
	key := func(i int) string { return fmt.Sprintf("account/000000000000/item/%08d", i*7919%items) }
	value := []byte(strings.Repeat("0123456789", 20))
	ops := []struct {
		name string
		op   func(ctx context.Context, s store.Store, key string) error
	}{
		{"ViewGet", func(ctx context.Context, s store.Store, key string) error {
			return s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("bench", key); return err })
		}},
		{"UpdatePut", func(ctx context.Context, s store.Store, key string) error {
			return s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Put("bench", key, value, store.AnyVersion)
				return err
			})
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			s := st.open(b)
			defer s.Close()
			if err := s.Update(ctx, func(tx store.Tx) error {
				for i := range items {
					if _, err := tx.Put("bench", key(i), value, store.AnyVersion); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			for _, o := range ops {
				b.Run(o.name, func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if err := o.op(ctx, s, key(i)); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			}
		})
	}
}
