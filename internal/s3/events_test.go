package s3_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/bus"
	s3svc "overcast/internal/s3"
)

type eventLog struct {
	mu  sync.Mutex
	evs []bus.Event
}

func subscribe(t *testing.T, b *bus.Bus, name string) *eventLog {
	t.Helper()
	l := &eventLog{}
	_, err := b.Subscribe(context.Background(), name, bus.Pattern{Source: "aws.s3"}, func(_ context.Context, ev bus.Event) error {
		l.mu.Lock()
		l.evs = append(l.evs, ev)
		l.mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// wait waits until n events have arrived, and returns them.
func (l *eventLog) wait(t *testing.T, n int) []bus.Event {
	t.Helper()
	var evs []bus.Event
	awstest.WaitFor(t, fmt.Sprintf("%d events", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		evs = append([]bus.Event(nil), l.evs...)
		return len(evs) >= n
	})
	return evs
}

func TestNotifications(t *testing.T) {
	srv, c := startWithBucket(t, "notify")
	log := subscribe(t, srv.Main.Bus(), "test")

	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
			{QueueArn: aws.String("not-an-arn"), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
	wantError(t, "bad ARN", err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
			{QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Events: []types.Event{"s3:ObjectExploded"}}}}})
	wantError(t, "bad event", err, "InvalidArgument", http.StatusBadRequest)
	cfg := &types.NotificationConfiguration{
		QueueConfigurations: []types.QueueConfiguration{{Id: aws.String("uploads"), QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:uploads"),
			Events: []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: "prefix", Value: aws.String("in/")}}}}}},
		EventBridgeConfiguration: &types.EventBridgeConfiguration{},
	}
	awstest.Call(t, c.PutBucketNotificationConfiguration, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify"),
		NotificationConfiguration: cfg})
	got, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notify")})
	if err != nil || len(got.QueueConfigurations) != 1 || aws.ToString(got.QueueConfigurations[0].Id) != "uploads" || got.EventBridgeConfiguration == nil {
		t.Errorf("GetBucketNotificationConfiguration: %+v, %v", got, err)
	}

	putObject(t, c, "notify", "in/a.txt", "a")
	c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("notify"), Key: aws.String("out/b.txt"), CopySource: aws.String("notify/in/a.txt")})
	id := createUpload(t, c, "notify", "in/mp")
	etag := uploadPart(t, c, "notify", "in/mp", id, 1, []byte("part"))
	awstest.Call(t, c.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("notify"), Key: aws.String("in/mp"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(etag)}}}})
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("notify"), Key: aws.String("in/a.txt")})
	setVersioning(t, c, "notify", types.BucketVersioningStatusEnabled)
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("notify"), Key: aws.String("out/b.txt")})

	evs := log.wait(t, 5)
	var types_, keys []string
	for _, ev := range evs {
		var d s3svc.EventDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		types_ = append(types_, ev.Type+"/"+d.Records[0].EventName)
		keys = append(keys, d.Records[0].S3.Object.Key)
		if ev.Source != "aws.s3" || ev.Account != "000000000000" || ev.Resources[0] != "arn:aws:s3:::notify" || !d.EventBridge {
			t.Errorf("event envelope: %+v", ev)
		}
		wantDest := ev.Type != "ObjectRemoved:Delete" && ev.Type != "ObjectRemoved:DeleteMarkerCreated" && d.Records[0].S3.Object.Key != "out%2Fb.txt"
		if (len(d.Destinations) == 1) != wantDest {
			t.Errorf("%s %s: destinations %+v", ev.Type, d.Records[0].S3.Object.Key, d.Destinations)
		}
	}
	if diff := cmp.Diff([]string{"ObjectCreated:Put/ObjectCreated:Put", "ObjectCreated:Copy/ObjectCreated:Copy",
		"ObjectCreated:CompleteMultipartUpload/ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete/ObjectRemoved:Delete",
		"ObjectRemoved:DeleteMarkerCreated/ObjectRemoved:DeleteMarkerCreated"}, types_); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"in%2Fa.txt", "out%2Fb.txt", "in%2Fmp", "in%2Fa.txt", "out%2Fb.txt"}, keys); diff != "" {
		t.Errorf("event keys (-want +got):\n%s", diff)
	}
}

// TestEventsSurviveRestart: events committed while no subscriber ran are
// delivered to the durable subscription after a restart.
func TestEventsSurviveRestart(t *testing.T) {
	srv, c := startWithBucket(t, "durable")
	log := subscribe(t, srv.Main.Bus(), "pipeline")
	putObject(t, c, "durable", "one", "1")
	log.wait(t, 1)
	srv.Restart(t)
	c = newClient(srv)
	putObject(t, c, "durable", "two", "2") // before the subscriber is back
	log2 := subscribe(t, srv.Main.Bus(), "pipeline")
	evs := log2.wait(t, 1)
	var d s3svc.EventDetail
	json.Unmarshal(evs[0].Detail, &d)
	if d.Records[0].S3.Object.Key != "two" {
		t.Errorf("after restart: got %s, want two", d.Records[0].S3.Object.Key)
	}
}
