package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"overcast/internal/store"
)

const benchItems = 10_000

// benchDB returns a database holding benchItems items of about 200 bytes,
// the size of a typical service record.
func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	value := benchValue()
	if err := db.Update(context.Background(), func(tx store.Tx) error {
		for i := range benchItems {
			if _, err := tx.Put("bench", benchKey(i), value, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchKey(i int) string { return fmt.Sprintf("account/000000000000/item/%08d", i) }

func benchValue() []byte {
	v := make([]byte, 200)
	for i := range v {
		v[i] = 'a' + byte(i%26)
	}
	return v
}

// scatteredKey is the key of the i-th item a benchmark visits: a stride
// through the items, so that neighbours in time are not neighbours on disk.
func scatteredKey(i int) string { return benchKey(i * 7919 % benchItems) }

// eachKey runs op once per iteration of b, on the scattered keys in turn.
func eachKey(b *testing.B, op func(key string) error) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := scatteredKey(i)
		i++
		if err := op(key); err != nil {
			b.Fatal(err)
		}
	}
}

// getItem is a View reading one item.
func getItem(ctx context.Context, db *DB, key string) error {
	return db.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get("bench", key)
		return err
	})
}

// BenchmarkGet is the most common operation: a View reading one item.
func BenchmarkGet(b *testing.B) {
	db := benchDB(b)
	eachKey(b, func(key string) error { return getItem(context.Background(), db, key) })
}

func BenchmarkGetParallel(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			key := scatteredKey(i)
			i++
			if err := getItem(ctx, db, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkScan100 reads one page of a List API: 100 items after a token.
func BenchmarkScan100(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		after := benchKey(i * 7919 % (benchItems - 100))
		i++
		n := 0
		if err := db.View(ctx, func(tx store.Tx) error {
			return tx.Scan("bench", store.ScanOptions{Prefix: "account/000000000000/item/", After: after, Limit: 100},
				func(store.Item) error { n++; return nil })
		}); err != nil {
			b.Fatal(err)
		}
		if n != 100 {
			b.Fatalf("got %d items, want 100", n)
		}
	}
}

// BenchmarkPut is an Update writing one item: a durable commit.
func BenchmarkPut(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	value := benchValue()
	eachKey(b, func(key string) error {
		return db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put("bench", key, value, store.AnyVersion)
			return err
		})
	})
}

// BenchmarkGetPut is the read-modify-write every mutating API call does.
func BenchmarkGetPut(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	eachKey(b, func(key string) error {
		return db.Update(ctx, func(tx store.Tx) error {
			it, err := tx.Get("bench", key)
			if err != nil {
				return err
			}
			_, err = tx.Put("bench", key, it.Value, it.Version)
			return err
		})
	})
}
