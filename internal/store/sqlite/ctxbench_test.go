package sqlite

import (
	"context"
	"testing"
)

// BenchmarkGetCancelable is BenchmarkGet with a cancelable context, as a
// request handler has; the driver then watches the context per statement.
func BenchmarkGetCancelable(b *testing.B) {
	db := benchDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eachKey(b, func(key string) error { return getItem(ctx, db, key) })
}
