package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/sns"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// queues records what SNS sends to SQS; queues named in reject refuse
// for good.
type queues struct {
	mu     sync.Mutex
	sent   []sent
	reject map[string]bool
}

type sent struct {
	principal, source, queue string
	m                        QueueMessage
}

func (q *queues) SendAs(ctx context.Context, principal, sourceARN, queueARN string, m QueueMessage) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reject[queueARN] {
		return "", fmt.Errorf("%w: The specified queue does not exist.", ErrRejected)
	}
	q.sent = append(q.sent, sent{principal, sourceARN, queueARN, m})
	return fmt.Sprintf("m%d", len(q.sent)), nil
}

func (q *queues) to(queueARN string) []QueueMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []QueueMessage
	for _, s := range q.sent {
		if s.queue == queueARN {
			out = append(out, s.m)
		}
	}
	return out
}

func newService(t *testing.T, env *service.Env) (*Service, *queues) {
	t.Helper()
	q := &queues{reject: map[string]bool{}}
	s := New(env, q)
	env.Controllers.Start()
	return s, q
}

func queueARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

func createTopic(t *testing.T, s *Service, name string, attrs map[string]string) string {
	t.Helper()
	out, err := s.CreateTopic(context.Background(), &api.CreateTopicInput{Name: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TopicArn
}

func subscribe(t *testing.T, s *Service, topic, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	yes := true
	out, err := s.Subscribe(context.Background(), &api.SubscribeInput{TopicArn: &topic, Protocol: &protocol, Endpoint: &endpoint,
		Attributes: attrs, ReturnSubscriptionArn: &yes})
	if err != nil {
		t.Fatal(err)
	}
	return *out.SubscriptionArn
}

func publish(t *testing.T, s *Service, in *api.PublishInput) string {
	t.Helper()
	out, err := s.Publish(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.MessageId
}

func str(s string) *string { return &s }

func TestDeliveryToQueues(t *testing.T) {
	s, q := newService(t, servicetest.Env(t))
	topic := createTopic(t, s, "orders", nil)
	subscribe(t, s, topic, "sqs", queueARN("wrapped"), nil)
	subscribe(t, s, topic, "sqs", queueARN("raw"), map[string]string{"RawMessageDelivery": "true"})
	subscribe(t, s, topic, "sqs", queueARN("filtered"), map[string]string{"FilterPolicy": `{"kind":["refund"]}`})

	attrs := api.MessageAttributeMap{"kind": {DataType: str("String"), StringValue: str("order")},
		"bin": {DataType: str("Binary"), BinaryValue: []byte("hi")}}
	id := publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("first"), Subject: str("S"), MessageAttributes: attrs})
	publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str(`{"default":"plain","sqs":"for queues"}`), MessageStructure: str("json")})
	servicetest.WaitFor(t, "deliveries", func() bool { return len(q.to(queueARN("wrapped"))) == 2 && len(q.to(queueARN("raw"))) == 2 })

	if got := q.to(queueARN("filtered")); len(got) != 0 {
		t.Errorf("filtered queue: got %d messages, want none: kind is not refund", len(got))
	}
	q.mu.Lock()
	if s0 := q.sent[0]; s0.principal != "sns.amazonaws.com" || s0.source != topic {
		t.Errorf("sent as %s for %s, want sns.amazonaws.com for the topic", s0.principal, s0.source)
	}
	q.mu.Unlock()

	var env map[string]any
	wrapped := q.to(queueARN("wrapped"))
	if strings.Contains(wrapped[0].Body, "for queues") {
		wrapped[0], wrapped[1] = wrapped[1], wrapped[0] // no order between messages of a standard topic
	}
	if err := json.Unmarshal([]byte(wrapped[0].Body), &env); err != nil {
		t.Fatal(err)
	}
	wantAttrs := map[string]any{"kind": map[string]any{"Type": "String", "Value": "order"}, "bin": map[string]any{"Type": "Binary", "Value": "aGk="}}
	if env["Type"] != "Notification" || env["MessageId"] != id || env["Message"] != "first" || env["Subject"] != "S" ||
		env["SignatureVersion"] != "1" || env["Signature"] == "" || !cmp.Equal(env["MessageAttributes"], any(wantAttrs)) {
		t.Errorf("envelope: got %v", env)
	}
	if wrapped[0].Attributes != nil {
		t.Errorf("wrapped delivery: got SQS attributes %v, want none", wrapped[0].Attributes)
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(wrapped[1].Body), &second); err != nil || second["Message"] != "for queues" || second["MessageAttributes"] != nil {
		t.Errorf("MessageStructure=json envelope: got %v (%v), want the sqs entry", second, err)
	}
	raw := q.to(queueARN("raw"))
	if raw[0].Body == "for queues" {
		raw[0], raw[1] = raw[1], raw[0]
	}
	if raw[0].Body != "first" || raw[0].Attributes["kind"].StringValue != "order" || string(raw[0].Attributes["bin"].BinaryValue) != "hi" {
		t.Errorf("raw delivery: got %+v", raw[0])
	}
	if raw[1].Body != "for queues" {
		t.Errorf("raw MessageStructure=json delivery: got %q", raw[1].Body)
	}
}

// Another account's queue confirms as an endpoint does: it receives the
// SubscriptionConfirmation, and its owner confirms with the token.
func TestCrossAccountQueueConfirms(t *testing.T) {
	s, q := newService(t, servicetest.Env(t))
	ctx := context.Background()
	topic := createTopic(t, s, "shared", nil)
	other := "arn:aws:sqs:us-east-1:111122223333:theirs"
	sub := subscribe(t, s, topic, "sqs", other, nil)
	servicetest.WaitFor(t, "the confirmation in the queue", func() bool { return len(q.to(other)) == 1 })
	var conf map[string]string
	if err := json.Unmarshal([]byte(q.to(other)[0].Body), &conf); err != nil {
		t.Fatal(err)
	}
	if conf["Type"] != "SubscriptionConfirmation" || !strings.Contains(conf["SubscribeURL"], "Action=ConfirmSubscription") {
		t.Fatalf("confirmation: got %v", conf)
	}
	publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("before")})
	if _, err := s.ConfirmSubscription(ctx, &api.ConfirmSubscriptionInput{TopicArn: &topic, Token: str(conf["Token"])}); err != nil {
		t.Fatal(err)
	}
	attrs, err := s.GetSubscriptionAttributes(ctx, &api.GetSubscriptionAttributesInput{SubscriptionArn: &sub})
	if err != nil || attrs.Attributes["PendingConfirmation"] != "false" {
		t.Fatalf("after confirming: got %v, %v", attrs, err)
	}
	publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("after")})
	servicetest.WaitFor(t, "the message after confirmation", func() bool { return len(q.to(other)) == 2 })
	if body := q.to(other)[1].Body; !strings.Contains(body, `"Message":"after"`) {
		t.Errorf("got %s, want only the message published after confirmation", body)
	}
}

func TestFIFODelivery(t *testing.T) {
	env := servicetest.Env(t)
	s, q := newService(t, env)
	topic := createTopic(t, s, "jobs.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	subscribe(t, s, topic, "sqs", queueARN("jobs.fifo"), nil)
	subscribe(t, s, topic, "sqs", queueARN("standard"), nil) // best effort, as AWS allows
	out, err := s.Publish(context.Background(), &api.PublishInput{TopicArn: &topic, Message: str("a"), MessageGroupId: str("g1")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Publish(context.Background(), &api.PublishInput{TopicArn: &topic, Message: str("a"), MessageGroupId: str("g1")})
	if err != nil {
		t.Fatal(err)
	}
	if *again.MessageId != *out.MessageId || *again.SequenceNumber != *out.SequenceNumber {
		t.Errorf("duplicate: got %s/%s, want %s/%s", *again.MessageId, *again.SequenceNumber, *out.MessageId, *out.SequenceNumber)
	}
	servicetest.Fake(env).Advance(dedupWindow + time.Second)
	publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("a"), MessageGroupId: str("g1")})
	servicetest.WaitFor(t, "two deliveries", func() bool { return len(q.to(queueARN("jobs.fifo"))) == 2 })
	got := q.to(queueARN("jobs.fifo"))[0]
	if got.GroupID != "g1" || len(got.DeduplicationID) != 64 {
		t.Errorf("FIFO delivery: got group %q dedup %q, want g1 and the body's SHA-256", got.GroupID, got.DeduplicationID)
	}
	servicetest.WaitFor(t, "the standard queue's deliveries", func() bool { return len(q.to(queueARN("standard"))) == 2 })
	if std := q.to(queueARN("standard"))[0]; std.DeduplicationID != "" {
		t.Errorf("delivery to a standard queue: got deduplication ID %q, want none", std.DeduplicationID)
	}
}

// A FIFO subscription gets each group's messages one at a time, in the
// order published, whatever the number of delivery workers.
func TestFIFOOrderPerGroup(t *testing.T) {
	s, q := newService(t, servicetest.Env(t))
	topic := createTopic(t, s, "ordered.fifo", map[string]string{"FifoTopic": "true"})
	subscribe(t, s, topic, "sqs", queueARN("ordered.fifo"), map[string]string{"RawMessageDelivery": "true"})
	const n = 20
	for i := 0; i < n; i++ {
		for _, g := range []string{"a", "b"} {
			publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str(fmt.Sprintf("%s%02d", g, i)), MessageGroupId: str(g),
				MessageDeduplicationId: str(fmt.Sprintf("%s%d", g, i))})
		}
	}
	servicetest.WaitFor(t, "every message", func() bool { return len(q.to(queueARN("ordered.fifo"))) == 2*n })
	next := map[string]int{}
	for _, m := range q.to(queueARN("ordered.fifo")) {
		if want := fmt.Sprintf("%s%02d", m.GroupID, next[m.GroupID]); m.Body != want {
			t.Fatalf("group %s: got %s, want %s next", m.GroupID, m.Body, want)
		}
		next[m.GroupID]++
	}
}

func TestDeadLetters(t *testing.T) {
	env := servicetest.Env(t)
	s, q := newService(t, env)
	q.reject[queueARN("gone")] = true
	topic := createTopic(t, s, "t", nil)
	withDLQ := subscribe(t, s, topic, "sqs", queueARN("gone"), map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + queueARN("dlq") + `"}`})
	id := publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("lost?")})
	servicetest.WaitFor(t, "the dead letter", func() bool { return len(q.to(queueARN("dlq"))) == 1 })
	dl := q.to(queueARN("dlq"))[0]
	if !strings.Contains(dl.Body, `"MessageId":"`+id+`"`) || dl.Attributes["ErrorCode"].StringValue != "DeliveryFailed" ||
		!strings.Contains(dl.Attributes["ErrorMessage"].StringValue, "does not exist") {
		t.Errorf("dead letter: got %+v", dl)
	}

	// Without a dead-letter queue the failure is kept, not dropped.
	if err := s.Unsubscribe(context.Background(), &api.UnsubscribeInput{SubscriptionArn: &withDLQ}); err != nil {
		t.Fatal(err)
	}
	subscribe(t, s, topic, "sqs", queueARN("gone"), nil)
	publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("kept")})
	servicetest.WaitFor(t, "the failed delivery", func() bool {
		var n int
		_ = env.Store.View(context.Background(), func(tx store.Tx) error {
			var err error
			n, err = tx.Count(failedTable, "")
			return err
		})
		return n == 1
	})
	rec := httptest.NewRecorder()
	s.servePlane(rec, httptest.NewRequest(http.MethodGet, PlanePrefix+"failed", nil))
	var failed struct{ Deliveries []delivery }
	if err := json.Unmarshal(rec.Body.Bytes(), &failed); err != nil || len(failed.Deliveries) != 1 ||
		failed.Deliveries[0].Message != "kept" || !strings.Contains(failed.Deliveries[0].LastError, "does not exist") {
		t.Errorf("GET %sfailed: got %s (%v), want the failed delivery and its error", PlanePrefix, rec.Body, err)
	}
}

func TestPublishAs(t *testing.T) {
	s, _ := newService(t, servicetest.Env(t))
	ctx := context.Background()
	topic := createTopic(t, s, "alerts", nil)
	rule := "arn:aws:events:us-east-1:000000000000:rule/failed-builds"
	_, err := s.PublishAs(ctx, "events.amazonaws.com", rule, topic, Message{Message: "x"})
	var ae *api.AuthorizationErrorException
	if !errors.As(err, &ae) {
		t.Fatalf("PublishAs under the default policy: got %v, want AuthorizationError: the policy must allow the service", err)
	}
	// CloudWatch names the alarm's account as AWS:SourceOwner, which the
	// default policy lets in for the topic's own account only.
	if _, err := s.PublishAs(ctx, "cloudwatch.amazonaws.com", "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a", topic, Message{Message: "x"}); err != nil {
		t.Errorf("PublishAs for an alarm of the account: %v", err)
	}
	_, err = s.PublishAs(ctx, "cloudwatch.amazonaws.com", "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a", topic, Message{Message: "x"})
	if !errors.As(err, &ae) {
		t.Errorf("PublishAs for another account's alarm: got %v, want AuthorizationError", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish",
		"Resource":"` + topic + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}]}`
	if err := s.SetTopicAttributes(ctx, &api.SetTopicAttributesInput{TopicArn: &topic, AttributeName: str("Policy"), AttributeValue: &policy}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishAs(ctx, "events.amazonaws.com", rule, topic, Message{Message: "x"}); err != nil {
		t.Errorf("PublishAs allowed by the policy: %v", err)
	}
	_, err = s.PublishAs(ctx, "events.amazonaws.com", rule+"-other", topic, Message{Message: "x"})
	if !errors.As(err, &ae) {
		t.Errorf("PublishAs for another rule: got %v, want AuthorizationError", err)
	}
}

// An accepted Publish survives a restart before delivery: its deliveries
// are records the next start drives.
func TestDeliveriesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, &queues{})
	topic := createTopic(t, s, "durable", nil)
	subscribe(t, s, topic, "sqs", queueARN("q"), nil)
	id := publish(t, s, &api.PublishInput{TopicArn: &topic, Message: str("after the crash")})
	env.Controllers.Stop()
	env.Close()

	_, q := newService(t, servicetest.Env(t, servicetest.InDir(dir)))
	servicetest.WaitFor(t, "the delivery after restart", func() bool { return len(q.to(queueARN("q"))) == 1 })
	if body := q.to(queueARN("q"))[0].Body; !strings.Contains(body, id) {
		t.Errorf("delivered after restart: got %s, want message %s", body, id)
	}
}

func TestRetryPolicyOfSubscription(t *testing.T) {
	topicPolicy := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":1}}}`
	locked := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":7,"maxDelayTarget":7,"numRetries":1},"disableSubscriptionOverrides":true}}`
	own := `{"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":2,"numRetries":1}}`
	tests := []struct {
		name        string
		sub, topic  string
		wantSeconds int
	}{
		{"default", "", "", 20},
		{"topic's", "", topicPolicy, 5},
		{"subscription's over the topic's", own, topicPolicy, 2},
		{"topic's when overrides are disabled", own, locked, 7},
	}
	for _, tc := range tests {
		sub := &subscription{Protocol: protoHTTP, Attributes: map[string]string{}}
		if tc.sub != "" {
			sub.Attributes[attrDeliveryPolicy] = tc.sub
		}
		if got, _ := retryPolicyOf(sub, tc.topic).delay(1); got != time.Duration(tc.wantSeconds)*time.Second {
			t.Errorf("%s: got a first retry after %v, want %ds", tc.name, got, tc.wantSeconds)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name   string
		policy retryPolicy
		want   []time.Duration // per retry; the last one is refused
	}{
		{"http default", httpRetries, []time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second}},
		{"phases", retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 9, NumRetries: 7, NumNoDelayRetries: 1, NumMinDelayRetries: 1, NumMaxDelayRetries: 2, BackoffFunction: "linear"},
			[]time.Duration{0, time.Second, time.Second, 5 * time.Second, 9 * time.Second, 9 * time.Second, 9 * time.Second}},
	}
	for _, tc := range tests {
		var got []time.Duration
		for n := 1; ; n++ {
			d, ok := tc.policy.delay(n)
			if !ok {
				break
			}
			got = append(got, d)
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
