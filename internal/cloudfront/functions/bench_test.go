package functions

import (
	"context"
	"testing"
)

// The edge runs a viewer-request function on each request: these measure
// what one adds, event conversion included (the target: 20 µs for
// a trivial one).
func BenchmarkRunTrivial(b *testing.B) {
	benchmarkRun(b, `function handler(event) { return event.request; }`)
}

func BenchmarkRunRewriteURI(b *testing.B) {
	benchmarkRun(b, addIndexHTML)
}

func benchmarkRun(b *testing.B, code string) {
	p := mustCompile(b, Runtime1, code)
	ev := viewerRequest("/docs/")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Run(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// Compile loads the code in a fresh VM (the API's cost on CreateFunction;
// the edge's cost when its pool of VMs runs dry).
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		mustCompile(b, Runtime2, addIndexHTML)
	}
}

// Runs of one Program on every core at once, as the edge's requests come.
func BenchmarkRunTrivialParallel(b *testing.B) {
	p := mustCompile(b, Runtime1, `function handler(event) { return event.request; }`)
	ev := viewerRequest("/")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Run(context.Background(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
