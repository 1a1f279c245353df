package cache_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"overcast/internal/cloudfront/edge/cache"
)

// The edge's use of a POP's cache on one viewer request: a hit, a stale
// entry served while one refresh runs, or a miss collapsed with others.
func Example() {
	c, err := cache.New(cache.Config{MaxMemory: 64 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	fromOrigin := func(ctx context.Context) (*cache.Entry, error) {
		// The edge asks the origin here and works out the TTL.
		return cache.NewEntry(cache.Entry{
			Status: http.StatusOK,
			Header: http.Header{"Content-Type": {"text/plain"}},
			Stored: time.Now(),
			TTL:    time.Hour,
			Path:   "/index.html",
		}, []byte("hello")), nil
	}
	serve := func(key string) string {
		now := time.Now()
		if e, ok := c.GetAt(key, now); ok {
			switch {
			case e.Fresh(now):
				return "Hit"
			case e.StaleWhileRevalidateOK(now):
				c.Refresh(context.Background(), key, fromOrigin)
				return "Hit (stale)"
			}
		}
		_, shared, err := c.Fetch(context.Background(), key, fromOrigin)
		switch {
		case err != nil:
			return "Error"
		case shared:
			return "Hit"
		}
		return "Miss"
	}

	fmt.Println(serve("example.cloudfront.net/index.html"))
	fmt.Println(serve("example.cloudfront.net/index.html"))
	fmt.Println(c.Invalidate("/index*"))
	fmt.Println(serve("example.cloudfront.net/index.html"))
	// Output:
	// Miss
	// Hit
	// 1
	// Miss
}
