package clock

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fired drains what a channel holds now, without waiting.
func fired(c <-chan time.Time) []time.Time {
	var got []time.Time
	for {
		select {
		case t := <-c:
			got = append(got, t)
		default:
			return got
		}
	}
}

func TestFakeTimer(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		advance []time.Duration
		want    []time.Time
	}{
		{"not yet due", time.Hour, []time.Duration{59 * time.Minute}, nil},
		{"due exactly", time.Hour, []time.Duration{time.Hour}, []time.Time{epoch.Add(time.Hour)}},
		{"past due fires at its own time", time.Minute, []time.Duration{time.Hour}, []time.Time{epoch.Add(time.Minute)}},
		{"in steps", time.Hour, []time.Duration{30 * time.Minute, 30 * time.Minute}, []time.Time{epoch.Add(time.Hour)}},
		{"zero fires at once", 0, nil, []time.Time{epoch}},
		{"fires once only", time.Second, []time.Duration{time.Second, time.Hour}, []time.Time{epoch.Add(time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			tm := f.NewTimer(tt.after)
			var got []time.Time
			for _, d := range tt.advance {
				f.Advance(d)
				got = append(got, fired(tm.C())...)
			}
			got = append(got, fired(tm.C())...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFakeTimerStopAndReset(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Error("Stop of a pending timer: got false, want true")
	}
	if tm.Stop() {
		t.Error("second Stop: got true, want false")
	}
	f.Advance(time.Hour)
	if got := fired(tm.C()); len(got) != 0 {
		t.Errorf("a stopped timer fired: %v", got)
	}
	if tm.Reset(time.Minute) {
		t.Error("Reset of a stopped timer: got true, want false")
	}
	f.Advance(time.Minute)
	if got, want := fired(tm.C()), []time.Time{epoch.Add(61 * time.Minute)}; !cmp.Equal(got, want) {
		t.Errorf("after Reset: got %v, want %v", got, want)
	}
	if got := f.Waiters(); got != 0 {
		t.Errorf("waiters after firing: got %d, want 0", got)
	}
}

func TestFakeTicker(t *testing.T) {
	f := NewFake(epoch)
	tk := f.NewTicker(10 * time.Second)
	var got []time.Time
	for range 3 {
		f.Advance(10 * time.Second)
		got = append(got, fired(tk.C())...)
	}
	want := []time.Time{epoch.Add(10 * time.Second), epoch.Add(20 * time.Second), epoch.Add(30 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ticks (-want +got):\n%s", diff)
	}
	// A receiver that falls behind gets one tick, as with time.Ticker.
	f.Advance(time.Minute)
	if n := len(fired(tk.C())); n != 1 {
		t.Errorf("ticks kept for a slow receiver: got %d, want 1", n)
	}
	tk.Reset(time.Hour)
	f.Advance(59 * time.Minute)
	if n := len(fired(tk.C())); n != 0 {
		t.Errorf("ticks before the reset period: got %d, want 0", n)
	}
	tk.Stop()
	f.Advance(24 * time.Hour)
	if n := len(fired(tk.C())); n != 0 {
		t.Errorf("ticks after Stop: got %d, want 0", n)
	}
}

func TestFakeFiresEachAtItsOwnTime(t *testing.T) {
	f := NewFake(epoch)
	var order []string
	late, early := f.NewTimer(2*time.Hour), f.NewTimer(time.Hour)
	f.Advance(3 * time.Hour)
	for _, c := range []struct {
		name string
		tm   Timer
	}{{"late", late}, {"early", early}} {
		for _, at := range fired(c.tm.C()) {
			order = append(order, c.name+"@"+at.Sub(epoch).String())
		}
	}
	if diff := cmp.Diff([]string{"late@2h0m0s", "early@1h0m0s"}, order); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, want := f.Now(), epoch.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("Now: got %v, want %v", got, want)
	}
}

func TestBlockUntilAndSleep(t *testing.T) {
	f := NewFake(epoch)
	done := make(chan error, 1)
	go func() { done <- Sleep(context.Background(), f, time.Hour) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("BlockUntil: %v", err)
	}
	f.Advance(time.Hour)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Sleep did not return after the clock passed its deadline")
	}

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := Sleep(cctx, f, time.Hour); err != context.Canceled {
		t.Errorf("Sleep with a cancelled context: got %v, want %v", err, context.Canceled)
	}
}

func TestSetBackwards(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Minute)
	f.Set(epoch.Add(-time.Hour))
	if got := fired(tm.C()); len(got) != 0 {
		t.Errorf("moving the clock back fired %v", got)
	}
	f.Set(epoch.Add(time.Minute))
	if got := fired(tm.C()); len(got) != 1 {
		t.Errorf("Set to the due time: got %d firings, want 1", len(got))
	}
}
