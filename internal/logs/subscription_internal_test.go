package logs

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/logs"
	"overcast/internal/bus"
	"overcast/internal/service/servicetest"
)

// TestSubscriptionDelivery checks what a subscription filter delivers on
// the bus: per write and filter, the matching events in CloudWatch Logs'
// subscription payload, with the destination.
func TestSubscriptionDelivery(t *testing.T) {
	ctx := context.Background()
	env := servicetest.Env(t)
	s := New(env, nil)
	var mu sync.Mutex
	var got []Delivery
	_, err := env.Bus.Subscribe(ctx, "test", bus.Pattern{Source: EventSource, Types: []string{DeliveryEventType}}, func(ctx context.Context, ev bus.Event) error {
		var d Delivery
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup(ctx, &api.CreateLogGroupRequest{LogGroupName: new("g")}); err != nil {
		t.Fatal(err)
	}
	const lambda = "arn:aws:lambda:us-east-1:000000000000:function:ship"
	if err := s.PutSubscriptionFilter(ctx, &api.PutSubscriptionFilterRequest{LogGroupName: new("g"), FilterName: new("errors"),
		FilterPattern: new("ERROR"), DestinationArn: new(lambda)}); err != nil {
		t.Fatal(err)
	}
	at := servicetest.Fake(env).Now()
	events := []Event{{Timestamp: at, Message: "ERROR one"}, {Timestamp: at.Add(time.Second), Message: "fine"}, {Timestamp: at.Add(2 * time.Second), Message: "ERROR two"}}
	appendEvents(t, s, "g", "web/1", events...)
	// A write with no match delivers nothing.
	appendEvents(t, s, "g", "web/1", Event{Timestamp: at, Message: "all good"})
	appendEvents(t, s, "g", "web/2", Event{Timestamp: at, Message: "ERROR three"})
	servicetest.WaitFor(t, "the deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	want := []Delivery{{DestinationARN: lambda, Distribution: "ByLogStream", Data: DeliveryData{
		MessageType: "DATA_MESSAGE", Owner: overcast.DefaultAccountID, LogGroup: "g", LogStream: "web/1", SubscriptionFilters: []string{"errors"},
		LogEvents: []DeliveredEvent{
			{ID: mergePos{TS: at.UnixMilli(), Stream: 2, Seq: 1}.eventID(), Timestamp: at.UnixMilli(), Message: "ERROR one"},
			{ID: mergePos{TS: at.Add(2 * time.Second).UnixMilli(), Stream: 2, Seq: 3}.eventID(), Timestamp: at.Add(2 * time.Second).UnixMilli(), Message: "ERROR two"},
		}}}, {DestinationARN: lambda, Distribution: "ByLogStream", Data: DeliveryData{
		MessageType: "DATA_MESSAGE", Owner: overcast.DefaultAccountID, LogGroup: "g", LogStream: "web/2", SubscriptionFilters: []string{"errors"},
		LogEvents: []DeliveredEvent{{ID: mergePos{TS: at.UnixMilli(), Stream: 3, Seq: 1}.eventID(), Timestamp: at.UnixMilli(), Message: "ERROR three"}}}}}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}
