package sqlite

import (
	"context"
	"testing"

	"overcast/internal/store"
)

// BenchmarkGetCancelable is BenchmarkGet with a cancelable context, as a
// request handler has; the driver then watches the context per statement.
func BenchmarkGetCancelable(b *testing.B) {
	db := benchDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := benchKey(i * 7919 % benchItems)
		i++
		if err := db.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get("bench", key)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
