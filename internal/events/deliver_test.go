package events

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
)

const (
	testAccount = "123456789012"
	testRegion  = "us-east-1"
	queueARN    = "arn:aws:sqs:us-east-1:123456789012:orders"
	dlqARN      = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
)

var testScope = scope{Account: testAccount, Region: testRegion}

// sentMessage is a message the fake queue got.
type sentMessage struct {
	Principal, Source, Queue string
	Message                  QueueMessage
}

// fakeQueues records what EventBridge sends to SQS; a queue listed in
// fail refuses with its error.
type fakeQueues struct {
	mu   sync.Mutex
	sent []sentMessage
	fail map[string]error
	// attempts counts sends per queue, refused ones included.
	attempts map[string]int
}

func (q *fakeQueues) SendAs(ctx context.Context, principal, sourceARN, queue string, m QueueMessage) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.attempts == nil {
		q.attempts = map[string]int{}
	}
	q.attempts[queue]++
	if err := q.fail[queue]; err != nil {
		return "", err
	}
	q.sent = append(q.sent, sentMessage{principal, sourceARN, queue, m})
	return "msg-1", nil
}

func (q *fakeQueues) messages(queue string) []sentMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []sentMessage
	for _, m := range q.sent {
		if m.Queue == queue {
			out = append(out, m)
		}
	}
	return out
}

func (q *fakeQueues) attemptsOf(queue string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attempts[queue]
}

type fixture struct {
	t   *testing.T
	env *service.Env
	svc *Service
	q   *fakeQueues
	ctx context.Context
}

func newFixture(t *testing.T, opts ...servicetest.Option) *fixture {
	env := servicetest.Env(t, opts...)
	q := &fakeQueues{fail: map[string]error{}}
	svc := New(env, Targets{Queues: q})
	return &fixture{t: t, env: env, svc: svc, q: q, ctx: newFixtureContext()}
}

// newFixtureContext is a request context of the test account's root.
func newFixtureContext() context.Context {
	return overcast.WithCaller(context.Background(), overcast.RootCaller(testAccount, testRegion))
}

func (f *fixture) putRule(name, pattern string, targets ...api.Target) {
	f.t.Helper()
	if _, err := f.svc.PutRule(f.ctx, &api.PutRuleRequest{Name: &name, EventPattern: &pattern}); err != nil {
		f.t.Fatal(err)
	}
	if len(targets) > 0 {
		if _, err := f.svc.PutTargets(f.ctx, &api.PutTargetsRequest{Rule: &name, Targets: targets}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) putEvent(source, detailType, detail string) string {
	f.t.Helper()
	out, err := f.svc.PutEvents(f.ctx, &api.PutEventsRequest{Entries: api.PutEventsRequestEntryList{
		{Source: &source, DetailType: &detailType, Detail: &detail}}})
	if err != nil {
		f.t.Fatal(err)
	}
	if *out.FailedEntryCount != 0 {
		f.t.Fatalf("PutEvents failed: %s", *out.Entries[0].ErrorMessage)
	}
	return *out.Entries[0].EventId
}

// failingTargetWithDLQ puts a rule whose queue target refuses with err
// and has a dead-letter queue, and an event it matches.
func (f *fixture) failingTargetWithDLQ(err error, policy *api.RetryPolicy) {
	f.q.fail[queueARN] = err
	target := queueTarget("q", queueARN)
	target.RetryPolicy = policy
	target.DeadLetterConfig = &api.DeadLetterConfig{Arn: new(dlqARN)}
	f.putRule("orders", `{"source":["shop"]}`, target)
	f.env.Controllers.Start()
	f.putEvent("shop", "Order Placed", `{}`)
}

func queueTarget(id, arn string) api.Target { return api.Target{Id: &id, Arn: &arn} }

func TestPutEventsDeliversTheEventToMatchingRulesTargets(t *testing.T) {
	f := newFixture(t)
	f.putRule("orders", `{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}`, queueTarget("q", queueARN))
	f.putRule("others", `{"source":["elsewhere"]}`, queueTarget("q", queueARN))
	f.env.Controllers.Start()
	f.putEvent("shop", "Order Placed", `{"total":50}`)
	id := f.putEvent("shop", "Order Placed", `{"total":150}`)
	servicetest.WaitFor(t, "delivery", func() bool { return len(f.q.messages(queueARN)) == 1 })
	m := f.q.messages(queueARN)[0]
	if m.Principal != "events.amazonaws.com" || m.Source != ruleARN(testScope, defaultBus, "orders") {
		t.Errorf("got sender %s for %s, want events.amazonaws.com for the rule", m.Principal, m.Source)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(m.Message.Body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"version": "0", "id": id, "detail-type": "Order Placed", "source": "shop",
		"account": testAccount, "time": servicetest.Epoch.Format(eventTimeFormat), "region": testRegion,
		"resources": []any{}, "detail": map[string]any{"total": float64(150)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestFailedDeliveryIsRetriedThenSentToTheDeadLetterQueue(t *testing.T) {
	f := newFixture(t)
	f.failingTargetWithDLQ(&awsproto.Error{Code: "ServiceUnavailable", Status: 503, Message: "try later"},
		&api.RetryPolicy{MaximumRetryAttempts: new(int32(2))})
	for attempt := 1; attempt <= 3; attempt++ {
		servicetest.WaitFor(t, "an attempt", func() bool { return f.q.attemptsOf(queueARN) == attempt })
		servicetest.Fake(f.env).Advance(time.Minute)
	}
	servicetest.WaitFor(t, "the dead letter", func() bool { return len(f.q.messages(dlqARN)) == 1 })
	attrs := map[string]string{}
	for k, v := range f.q.messages(dlqARN)[0].Message.Attributes {
		attrs[k] = v.StringValue
	}
	want := map[string]string{"RULE_ARN": ruleARN(testScope, defaultBus, "orders"),
		"TARGET_ARN": queueARN, "ERROR_CODE": "TIMEOUT", "ERROR_MESSAGE": f.q.fail[queueARN].Error(),
		"RETRY_ATTEMPTS": "2", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts"}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("dead-letter attributes (-want +got):\n%s", diff)
	}
}

func TestRefusedDeliveryGoesToTheDeadLetterQueueWithoutRetries(t *testing.T) {
	f := newFixture(t)
	f.failingTargetWithDLQ(&awsproto.Error{Code: "AccessDenied", Status: 403, Message: "denied"}, nil)
	servicetest.WaitFor(t, "the dead letter", func() bool { return len(f.q.messages(dlqARN)) == 1 })
	m := f.q.messages(dlqARN)[0].Message
	if got := m.Attributes["ERROR_CODE"].StringValue; got != "NO_PERMISSIONS" {
		t.Errorf("got ERROR_CODE %q, want NO_PERMISSIONS", got)
	}
	if n := f.q.attemptsOf(queueARN); n != 1 {
		t.Errorf("got %d attempts, want 1", n)
	}
}

func TestAcceptedEventsAreDeliveredAfterARestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, servicetest.InDir(dir))
	f.putRule("orders", `{"source":["shop"]}`, queueTarget("q", queueARN))
	f.putEvent("shop", "Order Placed", `{}`) // controllers never started: a crash before delivery
	f.env.Controllers.Stop()
	f.env.Close()

	g := newFixture(t, servicetest.InDir(dir))
	g.env.Controllers.Start()
	servicetest.WaitFor(t, "delivery after the restart", func() bool { return len(g.q.messages(queueARN)) == 1 })
}

func TestScheduledRuleFiresOnTheClock(t *testing.T) {
	f := newFixture(t)
	name, expr := "tick", "rate(5 minutes)"
	if _, err := f.svc.PutRule(f.ctx, &api.PutRuleRequest{Name: &name, ScheduleExpression: &expr}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutTargets(f.ctx, &api.PutTargetsRequest{Rule: &name, Targets: api.TargetList{queueTarget("q", queueARN)}}); err != nil {
		t.Fatal(err)
	}
	f.env.Controllers.Start()
	clk := servicetest.Fake(f.env)
	clk.Advance(4 * time.Minute)
	if n := len(f.q.messages(queueARN)); n != 0 {
		t.Fatalf("got %d messages before the first period ended, want 0", n)
	}
	clk.Advance(time.Minute)
	servicetest.WaitFor(t, "the scheduled event", func() bool { return len(f.q.messages(queueARN)) == 1 })
	var ev event
	if err := json.Unmarshal([]byte(f.q.messages(queueARN)[0].Message.Body), &ev); err != nil {
		t.Fatal(err)
	}
	wantRule := ruleARN(testScope, defaultBus, name)
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || !cmp.Equal(ev.Resources, []string{wantRule}) ||
		string(ev.Detail) != "{}" || ev.Time != servicetest.Epoch.Add(5*time.Minute).Format(eventTimeFormat) {
		t.Errorf("got %+v, want a Scheduled Event of %s at the end of the period", ev, wantRule)
	}
	clk.Advance(5 * time.Minute)
	servicetest.WaitFor(t, "the second firing", func() bool { return len(f.q.messages(queueARN)) == 2 })
}

func TestServiceEventsBecomeAWSEvents(t *testing.T) {
	f := newFixture(t)
	f.putRule("pushes", `{"source":["aws.ecr"],"detail-type":["ECR Image Action"],"detail":{"action-type":["PUSH"]}}`,
		queueTarget("q", queueARN))
	f.env.Controllers.Start()
	detail := `{"result":"SUCCESS","repository-name":"web","image-digest":"sha256:abc","action-type":"PUSH","image-tag":"latest"}`
	err := f.env.Bus.Publish(f.ctx, nil,
		bus.Event{Source: "aws.logs", Type: "Subscription Filter Delivery", Account: testAccount, Region: testRegion, Detail: []byte(`{}`)},
		bus.Event{Source: "aws.ecr", Type: "ECR Image Action", Account: testAccount, Region: testRegion,
			Resources: []string{"arn:aws:ecr:us-east-1:123456789012:repository/web"}, Detail: []byte(detail)})
	if err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "the ECR event", func() bool { return len(f.q.messages(queueARN)) == 1 })
	var ev event
	if err := json.Unmarshal([]byte(f.q.messages(queueARN)[0].Message.Body), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Source != "aws.ecr" || ev.DetailType != "ECR Image Action" || ev.Account != testAccount {
		t.Errorf("got %+v, want the ECR push event", ev)
	}
}

func TestS3EventsOnlyWhenTheBucketSendsToEventBridge(t *testing.T) {
	record := func(eventBridge bool) []byte {
		b, _ := json.Marshal(map[string]any{"EventBridge": eventBridge, "Records": []any{map[string]any{
			"eventName": "ObjectCreated:Put", "userIdentity": map[string]any{"principalId": "AWS:123456789012"},
			"requestParameters": map[string]any{"sourceIPAddress": "127.0.0.1"},
			"responseElements":  map[string]any{"x-amz-request-id": "REQ"},
			"s3": map[string]any{"bucket": map[string]any{"name": "photos"},
				"object": map[string]any{"key": "a+b%2Fc.jpg", "size": 5, "eTag": "abc", "sequencer": "01"}}}}})
		return b
	}
	bev := bus.Event{ID: "e1", Source: "aws.s3", Type: "ObjectCreated:Put", Account: testAccount, Region: testRegion,
		Time: servicetest.Epoch, Resources: []string{"arn:aws:s3:::photos"}}
	bev.Detail = record(false)
	if _, ok := awsEvent(bev); ok {
		t.Error("got an event for a bucket that does not send to EventBridge")
	}
	bev.Detail = record(true)
	ev, ok := awsEvent(bev)
	if !ok {
		t.Fatal("got no event for a bucket that sends to EventBridge")
	}
	var detail map[string]any
	_ = json.Unmarshal(ev.Detail, &detail)
	want := map[string]any{"version": "0", "bucket": map[string]any{"name": "photos"},
		"object":     map[string]any{"key": "a b/c.jpg", "size": float64(5), "etag": "abc", "sequencer": "01"},
		"request-id": "REQ", "requester": testAccount, "source-ip-address": "127.0.0.1", "reason": "PutObject"}
	if ev.DetailType != "Object Created" {
		t.Errorf("got detail-type %q, want Object Created", ev.DetailType)
	}
	if diff := cmp.Diff(want, detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
}

func TestFIFOQueueTargetNeedsAMessageGroup(t *testing.T) {
	f := newFixture(t)
	f.putRule("orders", `{"source":["shop"]}`)
	fifo := queueTarget("q", "arn:aws:sqs:us-east-1:123456789012:orders.fifo")
	_, err := f.svc.PutTargets(f.ctx, &api.PutTargetsRequest{Rule: new("orders"), Targets: api.TargetList{fifo}})
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != "ValidationException" {
		t.Fatalf("got %v, want a ValidationException", err)
	}
	fifo.SqsParameters = &api.SqsParameters{MessageGroupId: new("g1")}
	if _, err := f.svc.PutTargets(f.ctx, &api.PutTargetsRequest{Rule: new("orders"), Targets: api.TargetList{fifo}}); err != nil {
		t.Fatal(err)
	}
	f.env.Controllers.Start()
	id := f.putEvent("shop", "Order Placed", `{}`)
	servicetest.WaitFor(t, "delivery", func() bool { return len(f.q.messages(*fifo.Arn)) == 1 })
	m := f.q.messages(*fifo.Arn)[0].Message
	if m.GroupID != "g1" || m.DeduplicationID != id {
		t.Errorf("got group %q dedup %q, want g1 and the event ID %s", m.GroupID, m.DeduplicationID, id)
	}
}

// recorder records what the ECS and generic targets get.
type recorder struct {
	mu    sync.Mutex
	tasks []TaskRequest
	other []Delivery
}

func (r *recorder) RunTasks(ctx context.Context, req TaskRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, req)
	return nil
}

func (r *recorder) Deliver(ctx context.Context, d Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.other = append(r.other, d)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tasks) + len(r.other)
}

func TestECSAndOtherServicesTargets(t *testing.T) {
	env := servicetest.Env(t)
	rec := &recorder{}
	svc := New(env, Targets{Tasks: rec, Others: map[string]Target{"codepipeline": rec}})
	f := &fixture{t: t, env: env, svc: svc, ctx: newFixtureContext()}
	cluster := "arn:aws:ecs:us-east-1:123456789012:cluster/jobs"
	pipeline := "arn:aws:codepipeline:us-east-1:123456789012:release"
	role := "arn:aws:iam::123456789012:role/events"
	f.putRule("orders", `{"source":["shop"]}`,
		api.Target{Id: new("task"), Arn: &cluster, RoleArn: &role, Input: new(`{"containerOverrides":[{"name":"app","command":["run"]}]}`),
			EcsParameters: &api.EcsParameters{TaskDefinitionArn: new("arn:aws:ecs:us-east-1:123456789012:task-definition/job:3"),
				TaskCount: new(int32(2)), LaunchType: new("FARGATE"), NetworkConfiguration: &api.NetworkConfiguration{
					AwsvpcConfiguration: &api.AwsVpcConfiguration{Subnets: []string{"subnet-1"}, AssignPublicIp: new("ENABLED")}}}},
		api.Target{Id: new("release"), Arn: &pipeline, RoleArn: &role})
	env.Controllers.Start()
	f.putEvent("shop", "Order Placed", `{}`)
	servicetest.WaitFor(t, "both deliveries", func() bool { return rec.count() == 2 })
	wantTask := TaskRequest{ClusterARN: cluster, RoleARN: role, TaskDefinitionARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/job:3",
		Count: 2, LaunchType: "FARGATE", Subnets: []string{"subnet-1"}, AssignPublicIP: true, StartedBy: "events-rule/orders",
		Input: `{"containerOverrides":[{"name":"app","command":["run"]}]}`}
	if diff := cmp.Diff([]TaskRequest{wantTask}, rec.tasks); diff != "" {
		t.Errorf("RunTask (-want +got):\n%s", diff)
	}
	if len(rec.other) != 1 || rec.other[0].TargetARN != pipeline || rec.other[0].RoleARN != role ||
		rec.other[0].RuleARN != ruleARN(testScope, defaultBus, "orders") {
		t.Errorf("pipeline delivery: got %+v", rec.other)
	}
}
