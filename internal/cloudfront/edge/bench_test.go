package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	api "overcast/internal/api/cloudfront"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the edge and not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkHit1KB(b *testing.B) {
	body := strings.Repeat("x", 1024)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte(body))
	}))
	defer o.Close()
	origin := customOrigin("o1", &testOrigin{Server: o})
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.Deploy(b.Context(), distribution([]api.Origin{origin}, nil)); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://E1TEST.cloudfront.localhost:4566/file.bin", nil)
	r.Header.Set("Accept-Encoding", "gzip, br")
	r.Header.Set("User-Agent", "wrk")
	w := &discardWriter{h: http.Header{}}
	e.ServeHTTP(w, r)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, r)
	}
	if got := w.h.Get("X-Cache"); got != "Hit from cloudfront" {
		b.Fatalf("got %q, want hits", got)
	}
}
