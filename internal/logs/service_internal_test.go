package logs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/logs"
	"overcast/internal/clock"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// epoch is where the fake clocks of these tests start.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newService is the service in a test environment whose clock the test
// moves; the controllers are not started, tests call Sweep.
func newService(t testing.TB) (*Service, store.Store, *clock.Fake) {
	t.Helper()
	env := servicetest.Env(t, servicetest.WithClock(clock.NewFake(epoch)))
	return New(env, nil), env.Store, servicetest.Fake(env)
}

// restartable returns a maker of services over one store directory and
// one fake clock: each call after the first is the service restarted.
func restartable(t testing.TB, objects ObjectWriter) (start func() *Service, fake *clock.Fake) {
	dir := t.TempDir()
	fake = clock.NewFake(epoch)
	return func() *Service {
		return New(servicetest.Env(t, servicetest.WithClock(fake), servicetest.InDir(dir)), objects)
	}, fake
}

// appendEvents writes events to a stream of the default account and region.
func appendEvents(t testing.TB, s *Service, group, stream string, events ...Event) {
	t.Helper()
	if err := s.Append(context.Background(), overcast.DefaultAccountID, overcast.DefaultRegion, group, stream, events); err != nil {
		t.Fatal(err)
	}
}

// defaultKey is the controller key of a query or export task of the
// default account and region.
func defaultKey(id string) string {
	return groupKey(overcast.DefaultAccountID, overcast.DefaultRegion, id)
}

func count(t testing.TB, db store.Store, table, prefix string) int {
	t.Helper()
	var n int
	err := db.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.Count(table, prefix)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendCreatesGroupAndStream(t *testing.T) {
	ctx := context.Background()
	s, _, now := newService(t)
	at := now.Now()
	events := []Event{
		{Timestamp: at.Add(2 * time.Millisecond), Message: "third"},
		{Timestamp: at, Message: "first"},
		{Timestamp: at.Add(time.Millisecond), Message: ""}, // skipped, as the awslogs driver does
		{Timestamp: at.Add(time.Millisecond), Message: "second"},
		{Timestamp: at.Add(-30 * 24 * time.Hour), Message: "too old: dropped"},
	}
	if err := s.Append(ctx, "123456789012", "eu-west-1", "/ecs/web", "web/app/abc123", events); err != nil {
		t.Fatal(err)
	}
	// The events are the caller's account and region's, not the default's.
	ctx = overcast.WithCaller(ctx, overcast.RootCaller("123456789012", "eu-west-1"))
	out, err := s.GetLogEvents(ctx, &api.GetLogEventsRequest{LogGroupName: new("/ecs/web"), LogStreamName: new("web/app/abc123"), StartFromHead: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.Events {
		got = append(got, *e.Message)
	}
	if diff := cmp.Diff([]string{"first", "second", "third"}, got); diff != "" {
		t.Errorf("appended events (-want +got):\n%s", diff)
	}

	// Appending again reuses them; no events at all still creates the stream.
	if err := s.Append(ctx, "123456789012", "eu-west-1", "/ecs/web", "web/app/abc123", events[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, "123456789012", "eu-west-1", "/ecs/web", "other", nil); err != nil {
		t.Fatal(err)
	}
	streams, err := s.DescribeLogStreams(ctx, &api.DescribeLogStreamsRequest{LogGroupName: new("/ecs/web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(streams.LogStreams) != 2 || *streams.LogStreams[1].StoredBytes != int64(len("firstsecondthirdthird")) {
		t.Errorf("streams after appends: %+v", streams.LogStreams)
	}

	if err := s.Append(ctx, "123456789012", "eu-west-1", "bad name", "s", nil); err == nil {
		t.Error("Append to an invalid group name: got no error")
	}
}

func TestAppendSplitsLargeInput(t *testing.T) {
	s, db, now := newService(t)
	at := now.Now()
	events := make([]Event, 25_000) // more than one PutLogEvents batch
	for i := range events {
		events[i] = Event{Timestamp: at, Message: fmt.Sprint("line ", i)}
	}
	appendEvents(t, s, "g", "s", events...)
	if got := count(t, db, eventsTable, ""); got != len(events) {
		t.Errorf("stored %d events, want %d", got, len(events))
	}
}

// TestSweepReclaims checks that deleting a group or stream only leaves a
// tombstone, and a sweep then deletes the data; and that retention deletes
// exactly the expired events.
func TestSweepReclaims(t *testing.T) {
	ctx := context.Background()
	s, db, now := newService(t)
	at := now.Now()
	var evs []Event
	for i := range 12_000 { // more than one sweep chunk
		evs = append(evs, Event{Timestamp: at.Add(-time.Duration(i) * time.Second), Message: "m"})
	}
	for _, st := range []string{"a", "b"} {
		appendEvents(t, s, "doomed", st, evs...)
		appendEvents(t, s, "kept", st, evs...)
	}
	if err := s.DeleteLogGroup(ctx, &api.DeleteLogGroupRequest{LogGroupName: new("doomed")}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLogStream(ctx, &api.DeleteLogStreamRequest{LogGroupName: new("kept"), LogStreamName: new("b")}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, eventsTable, ""); got != 4*len(evs) {
		t.Errorf("before the sweep: %d events, want all %d still there", got, 4*len(evs))
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := []int{count(t, db, eventsTable, ""), count(t, db, streamsTable, ""), count(t, db, gcTable, "")}, []int{len(evs), 1, 0}; !cmp.Equal(got, want) {
		t.Errorf("after the sweep: events, streams, tombstones = %v, want %v", got, want)
	}

	// One day of retention, and the clock moves so that exactly 1,000 of
	// the remaining events are older than that.
	if err := s.PutRetentionPolicy(ctx, &api.PutRetentionPolicyRequest{LogGroupName: new("kept"), RetentionInDays: new(int32(1))}); err != nil {
		t.Fatal(err)
	}
	now.Advance(24*time.Hour - time.Duration(len(evs)-1000)*time.Second + time.Millisecond)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, eventsTable, ""); got != len(evs)-1000 {
		t.Errorf("after retention: %d events, want %d", got, len(evs)-1000)
	}
	g, err := s.DescribeLogGroups(ctx, &api.DescribeLogGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *g.LogGroups[0].StoredBytes; got != int64(len(evs)-1000) {
		t.Errorf("group storedBytes: got %d, want %d", got, len(evs)-1000)
	}
	// A second sweep finds nothing more to do.
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, eventsTable, ""); got != len(evs)-1000 {
		t.Errorf("after a second sweep: %d events, want %d", got, len(evs)-1000)
	}
}

func TestStartLiveTailRefused(t *testing.T) {
	s, _, _ := newService(t)
	_, err := s.StartLiveTail(context.Background(), &api.StartLiveTailRequest{LogGroupIdentifiers: []string{"g"}})
	if code, msg := apiCode(err); code != "InvalidOperationException" || msg == "" {
		t.Errorf("StartLiveTail: got %q %q, want InvalidOperationException with a reason", code, msg)
	}
}

func TestLogGroupQuota(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	s.maxLogGroups = 2
	for _, name := range []string{"a", "b"} {
		if err := s.CreateLogGroup(ctx, &api.CreateLogGroupRequest{LogGroupName: new(name)}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.CreateLogGroup(ctx, &api.CreateLogGroupRequest{LogGroupName: new("c")})
	if code, msg := apiCode(err); code != "LimitExceededException" || msg != "Resource limit exceeded." {
		t.Errorf("third group: got %q %q, want LimitExceededException", code, msg)
	}
	// The quota is per account and region.
	other := overcast.WithCaller(ctx, overcast.RootCaller("123456789012", "us-east-1"))
	if err := s.CreateLogGroup(other, &api.CreateLogGroupRequest{LogGroupName: new("c")}); err != nil {
		t.Errorf("another account's first group: %v", err)
	}
}

// TestFilterScanBudget checks that a search stopped by its scan budget
// returns a nextToken, possibly with no events, and that following the
// tokens finds every match exactly once.
func TestFilterScanBudget(t *testing.T) {
	ctx := context.Background()
	s, _, now := newService(t)
	s.filterScan = 7
	at := now.Now()
	for _, st := range []string{"a", "b", "c"} {
		var evs []Event
		for i := range 20 {
			msg := fmt.Sprintf("%s %d", st, i)
			if i%9 == 0 {
				msg += " MATCH"
			}
			evs = append(evs, Event{Timestamp: at.Add(time.Duration(i) * time.Millisecond), Message: msg})
		}
		appendEvents(t, s, "g", st, evs...)
	}
	var got []string
	in := &api.FilterLogEventsRequest{LogGroupName: new("g"), FilterPattern: new("MATCH")}
	calls, empty := 0, 0
	for {
		out, err := s.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if calls++; calls > 20 {
			t.Fatal("FilterLogEvents never stops returning nextToken")
		}
		if len(out.Events) == 0 {
			empty++
		}
		for _, e := range out.Events {
			got = append(got, *e.Message)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	// Merged in time order: a 0, b 0, c 0, a 9, b 9, c 9, a 18, ...
	wantOrder := []string{"a 0 MATCH", "b 0 MATCH", "c 0 MATCH", "a 9 MATCH", "b 9 MATCH", "c 9 MATCH", "a 18 MATCH", "b 18 MATCH", "c 18 MATCH"}
	if diff := cmp.Diff(wantOrder, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if calls != 9 || empty == 0 { // 60 events, 7 per call
		t.Errorf("got %d calls, %d of them empty; want 9 calls, some empty", calls, empty)
	}
}
