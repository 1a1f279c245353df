package logs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"overcast"
	api "overcast/internal/api/logs"
)

// BenchmarkOneStreamOfMany shows that reading one stream does not slow
// down as the store grows: the stream read always holds 10,000 events, and
// the store around it holds 10,000 or 1,000,000 (100 streams). Setup also
// reports the ingestion rate, in PutLogEvents-sized transactions.
//
//	go test -run '^$' -bench OneStreamOfMany -benchtime 2000x ./internal/logs
func BenchmarkOneStreamOfMany(b *testing.B) {
	for _, streams := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", streams*10_000), func(b *testing.B) {
			benchmarkStreams(b, streams)
		})
	}
}

func benchmarkStreams(b *testing.B, streams int) {
	const perStream = 10_000
	ctx := context.Background()
	s, _, now := newService(b)
	ref := groupRef{Account: overcast.DefaultAccountID, Region: overcast.DefaultRegion, Name: "/bench"}
	t0 := now.Now().UnixMilli()
	started := time.Now()
	batch := make([]inputEvent, perStream)
	for i := range streams {
		for j := range batch {
			batch[j] = inputEvent{TS: t0 - int64(perStream-j), Message: fmt.Sprintf(`{"level":"INFO","stream":%d,"seq":%d,"msg":"request served in %d ms"}`, i, j, j%500)}
		}
		if _, err := s.putEvents(ctx, ref, fmt.Sprintf("stream-%03d", i), batch, true); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(started)
	b.Logf("inserted %d events in %v: %.0f events/s", streams*perStream, elapsed.Round(time.Millisecond), float64(streams*perStream)/elapsed.Seconds())

	target := fmt.Sprintf("stream-%03d", streams/2)
	var middle *string // a forward token half-way through the stream
	head, err := s.GetLogEvents(ctx, &api.GetLogEventsRequest{LogGroupName: new("/bench"), LogStreamName: new(target),
		StartFromHead: new(true), Limit: new(int32(perStream / 2))})
	if err != nil || len(head.Events) != perStream/2 {
		b.Fatalf("GetLogEvents: %v, %d events", err, len(head.Events))
	}
	middle = head.NextForwardToken

	reads := []struct {
		name string
		in   api.GetLogEventsRequest
	}{
		{"GetLogEvents/head", api.GetLogEventsRequest{StartFromHead: new(true)}},
		{"GetLogEvents/tail", api.GetLogEventsRequest{}},
		{"GetLogEvents/token", api.GetLogEventsRequest{NextToken: middle}},
		{"GetLogEvents/startTime", api.GetLogEventsRequest{StartTime: new(t0 - perStream/3), StartFromHead: new(true)}},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			in := r.in
			in.LogGroupName, in.LogStreamName, in.Limit = new("/bench"), new(target), new(int32(100))
			for b.Loop() {
				out, err := s.GetLogEvents(ctx, &in)
				if err != nil || len(out.Events) != 100 {
					b.Fatalf("GetLogEvents: %v, %d events", err, len(out.Events))
				}
			}
		})
	}
	b.Run("FilterLogEvents/stream", func(b *testing.B) {
		in := api.FilterLogEventsRequest{LogGroupName: new("/bench"), LogStreamNames: []string{target}, Limit: new(int32(100)),
			FilterPattern: new(`{ $.seq >= 5000 }`)}
		for b.Loop() {
			out, err := s.FilterLogEvents(ctx, &in)
			if err != nil || len(out.Events) != 100 {
				b.Fatalf("FilterLogEvents: %v, %d events", err, len(out.Events))
			}
		}
	})
}
