package edge

import (
	"net/http"
	"sync"
	"testing"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/service/servicetest"
)

func TestConcurrentMissesCollapse(t *testing.T) {
	release := make(chan struct{})
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release // every viewer is waiting by the time the origin answers
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("shared"))
	})
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, nil))
	const viewers = 1000
	var wg sync.WaitGroup
	results := make(chan string, viewers)
	for range viewers {
		wg.Go(func() {
			resp := get(e, "GET", "http://example.com/hot", nil)
			body := readBody(t, resp)
			results <- body + " " + xcache(resp)
		})
	}
	waitForOriginRequests(t, o, 1)
	close(release)
	wg.Wait()
	close(results)
	counts := map[string]int{}
	for r := range results {
		counts[r]++
	}
	if got := o.hits.Load(); got != 1 {
		t.Errorf("got %d origin fetches for %d concurrent misses, want 1", got, viewers)
	}
	if counts["shared Miss"] != 1 || counts["shared Hit"] != viewers-1 {
		t.Errorf("got %v, want 1 Miss and %d Hits", counts, viewers-1)
	}
}

func waitForOriginRequests(t *testing.T, o *testOrigin, n int64) {
	t.Helper()
	servicetest.WaitFor(t, "the origin request", func() bool { return o.hits.Load() >= n })
}
