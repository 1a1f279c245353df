package periodic

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoop(t *testing.T) {
	tests := []struct {
		name       string
		delayFirst bool
		wantAtOnce bool
	}{
		{"first pass at start", false, true},
		{"first pass delayed", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			passes := make(chan struct{}, 10)
			l := New(time.Hour, tt.delayFirst, func(ctx context.Context) { passes <- struct{}{} })
			l.Start()
			l.Start() // a second Start does nothing
			defer l.Stop()
			select {
			case <-passes:
				if !tt.wantAtOnce {
					t.Fatal("got a pass at start, want none until the interval or a Wake")
				}
			case <-time.After(100 * time.Millisecond):
				if tt.wantAtOnce {
					t.Fatal("got no pass at start")
				}
			}
			l.Wake()
			select {
			case <-passes:
			case <-time.After(5 * time.Second):
				t.Fatal("Wake ran no pass")
			}
		})
	}
}

func TestStopWaitsForThePass(t *testing.T) {
	var running, finished atomic.Bool
	entered := make(chan struct{})
	l := New(time.Hour, false, func(ctx context.Context) {
		running.Store(true)
		close(entered)
		<-ctx.Done() // a long pass ends when Stop cancels it
		finished.Store(true)
	})
	l.Start()
	<-entered
	l.Stop()
	if !finished.Load() {
		t.Fatal("Stop returned while the pass was still running")
	}
	l.Stop() // a second Stop is harmless
	l.Start()
	if l.started && !l.stopped {
		t.Fatal("Start after Stop restarted the loop")
	}
}

func TestStopWithoutStart(t *testing.T) {
	calls := 0
	l := New(time.Millisecond, false, func(context.Context) { calls++ })
	l.Stop()
	l.Start()
	time.Sleep(20 * time.Millisecond)
	if calls != 0 {
		t.Fatalf("got %d passes after Stop then Start, want 0", calls)
	}
}
