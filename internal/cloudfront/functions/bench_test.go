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
