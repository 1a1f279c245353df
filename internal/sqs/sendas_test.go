package sqs

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/sqs"
	"overcast/internal/service/servicetest"
)

// recordingMetrics keeps what SQS publishes.
type recordingMetrics struct{ points []MetricPoint }

func (r *recordingMetrics) PutSQSMetrics(_ context.Context, account, region string, points []MetricPoint) error {
	r.points = append(r.points, points...)
	return nil
}

func newTestService(t *testing.T) (*Service, context.Context, *recordingMetrics) {
	t.Helper()
	env := servicetest.Env(t)
	metrics := &recordingMetrics{}
	s := New(env, Options{Metrics: metrics})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, overcast.WithCaller(context.Background(), overcast.RootCaller("111122223333", "us-east-1")), metrics
}

func createQueue(t *testing.T, s *Service, ctx context.Context, name string, attrs map[string]string) string {
	t.Helper()
	out, err := s.CreateQueue(ctx, &api.CreateQueueRequest{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl
}

func TestSendAsNeedsTheQueuePolicy(t *testing.T) {
	s, ctx, _ := newTestService(t)
	const queueARN = "arn:aws:sqs:us-east-1:111122223333:inbox"
	const topicARN = "arn:aws:sns:us-east-1:111122223333:alerts"
	url := createQueue(t, s, ctx, "inbox", nil)
	msg := Message{Body: "hi", Attributes: map[string]Attribute{"kind": {DataType: "String", StringValue: "alert"}}}
	// Even in the queue's own account, a service needs the policy's Allow.
	if _, err := s.SendAs(ctx, "sns.amazonaws.com", topicARN, queueARN, msg); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("got %v without a policy, want ErrAccessDenied", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"` + queueARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + topicARN + `"}}}]}`
	if err := s.SetQueueAttributes(ctx, &api.SetQueueAttributesRequest{QueueUrl: &url, Attributes: map[string]string{"Policy": policy}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, principal, source string
		want                    error
	}{
		{"allowed topic", "sns.amazonaws.com", topicARN, nil},
		{"another topic", "sns.amazonaws.com", "arn:aws:sns:us-east-1:111122223333:other", ErrAccessDenied},
		{"another service", "events.amazonaws.com", topicARN, ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.SendAs(ctx, tt.principal, tt.source, queueARN, msg); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := s.SendAs(ctx, "sns.amazonaws.com", topicARN, "arn:aws:sqs:us-east-1:111122223333:nope", msg); !errors.Is(err, ErrNoQueue) {
		t.Errorf("got %v for a missing queue, want ErrNoQueue", err)
	}
	out, err := s.ReceiveMessage(ctx, &api.ReceiveMessageRequest{QueueUrl: &url, AttributeNames: api.AttributeNameList{"SenderId"},
		MessageAttributeNames: api.MessageAttributeNameList{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || *out.Messages[0].Body != "hi" || out.Messages[0].Attributes["SenderId"] != "sns.amazonaws.com" ||
		*out.Messages[0].MessageAttributes["kind"].StringValue != "alert" {
		t.Errorf("got %+v, want the one message SNS sent", out.Messages)
	}
}

func TestMetricsEveryMinute(t *testing.T) {
	s, ctx, metrics := newTestService(t)
	url := createQueue(t, s, ctx, "depth", nil)
	for range 3 {
		if _, err := s.SendMessage(ctx, &api.SendMessageRequest{QueueUrl: &url, MessageBody: new("job")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ReceiveMessage(ctx, &api.ReceiveMessageRequest{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	if err := s.publishMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range metrics.points {
		if p.QueueName != "depth" {
			t.Errorf("got a point for queue %q", p.QueueName)
		}
		got[p.Name] = p.Value
	}
	want := map[string]float64{"ApproximateNumberOfMessagesVisible": 2, "ApproximateNumberOfMessagesNotVisible": 1,
		"ApproximateNumberOfMessagesDelayed": 0, "ApproximateAgeOfOldestMessage": 0, "NumberOfMessagesSent": 3,
		"NumberOfMessagesReceived": 1, "NumberOfMessagesDeleted": 0, "NumberOfEmptyReceives": 0, "SentMessageSize": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
