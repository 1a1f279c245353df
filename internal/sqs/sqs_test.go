package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

var ctx = context.Background()

// start runs overcast on a fake clock and returns an SQS client.
func start(t *testing.T) (*awstest.Server, *sqs.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), sqs.NewFromConfig)
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out := awstest.Call(t, c.CreateQueue, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	return *out.QueueUrl
}

func queueAttributes(t *testing.T, c *sqs.Client, url string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	return awstest.Call(t, c.GetQueueAttributes, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names}).Attributes
}

func receive(t *testing.T, c *sqs.Client, in *sqs.ReceiveMessageInput) []types.Message {
	t.Helper()
	return awstest.Call(t, c.ReceiveMessage, in).Messages
}

func bodies(msgs []types.Message) []string {
	return awstest.Strings(msgs, func(m types.Message) *string { return m.Body })
}

func TestQueueLifecycle(t *testing.T) {
	srv, c, _ := start(t)
	url := createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45"})
	if want := srv.URL + "/000000000000/orders"; url != want {
		t.Errorf("got queue URL %s, want %s", url, want)
	}
	// The same name and attributes is the same queue.
	if again := createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45", "FifoQueue": "false"}); again != url {
		t.Errorf("got %s creating the queue again, want %s", again, url)
	}
	got := awstest.Call(t, c.GetQueueUrl, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if *got.QueueUrl != url {
		t.Errorf("got GetQueueUrl %s, want %s", *got.QueueUrl, url)
	}
	attrs := queueAttributes(t, c, url, types.QueueAttributeNameAll)
	want := map[string]string{
		"VisibilityTimeout": "45", "DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
		"ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true", "ApproximateNumberOfMessages": "0",
		"ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders", "CreatedTimestamp": "1772366400", "LastModifiedTimestamp": "1772366400",
	}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "5"}})
	if got := queueAttributes(t, c, url, types.QueueAttributeNameDelaySeconds); got["DelaySeconds"] != "5" {
		t.Errorf("got DelaySeconds %q after setting it, want 5", got["DelaySeconds"])
	}
	awstest.Call(t, c.TagQueue, &sqs.TagQueueInput{QueueUrl: &url, Tags: map[string]string{"team": "a", "env": "dev"}})
	awstest.Call(t, c.UntagQueue, &sqs.UntagQueueInput{QueueUrl: &url, TagKeys: []string{"env"}})
	tags := awstest.Call(t, c.ListQueueTags, &sqs.ListQueueTagsInput{QueueUrl: &url}).Tags
	if diff := cmp.Diff(map[string]string{"team": "a"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.DeleteQueue, &sqs.DeleteQueueInput{QueueUrl: &url})
	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	// The SDK reports the query-era code, as AWS sends it, and the typed error.
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AWS.SimpleQueueService.NonExistentQueue", Status: 400,
		Message: "The specified queue does not exist."})
	if gone := new(types.QueueDoesNotExist); !errors.As(err, &gone) {
		t.Errorf("got %T, want *types.QueueDoesNotExist", err)
	}
}

func TestListQueuesPages(t *testing.T) {
	_, c, _ := start(t)
	for _, name := range []string{"a-1", "a-2", "a-3", "b-1"} {
		createQueue(t, c, name, nil)
	}
	var names []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("a-"), MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := awstest.NextPage(t, p)
		pages++
		for _, u := range out.QueueUrls {
			names = append(names, u[strings.LastIndexByte(u, '/')+1:])
		}
	}
	if diff := cmp.Diff([]string{"a-1", "a-2", "a-3"}, names); diff != "" || pages != 2 {
		t.Errorf("got %d pages, queues (-want +got):\n%s", pages, diff)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	_, c, fake := start(t)
	url := createQueue(t, c, "work", nil)
	sent := awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("hello"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":      {DataType: aws.String("String"), StringValue: aws.String("greeting")},
			"n":         {DataType: aws.String("Number.int"), StringValue: aws.String("42")},
			"blob":      {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
			"app.trace": {DataType: aws.String("String"), StringValue: aws.String("t-1")},
		}})
	// Known digests: what the SDKs compute for the same body and attributes.
	if *sent.MD5OfMessageBody != "5d41402abc4b2a76b9719d911017c592" {
		t.Errorf("got MD5OfMessageBody %s", *sent.MD5OfMessageBody)
	}
	if sent.MD5OfMessageAttributes == nil {
		t.Fatal("got no MD5OfMessageAttributes")
	}
	msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MessageAttributeNames: []string{"app.*", "kind"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount", "SentTimestamp"}})
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if *m.MessageId != *sent.MessageId || *m.Body != "hello" {
		t.Errorf("got message %s %q, want %s \"hello\"", *m.MessageId, *m.Body, *sent.MessageId)
	}
	if diff := cmp.Diff(map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1772366400000"}, m.Attributes); diff != "" {
		t.Errorf("system attributes (-want +got):\n%s", diff)
	}
	if len(m.MessageAttributes) != 2 || m.MessageAttributes["app.trace"].StringValue == nil {
		t.Errorf("got message attributes %v, want kind and app.trace", m.MessageAttributes)
	}
	// In flight: not received again until the visibility timeout passes.
	if again := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url}); len(again) != 0 {
		t.Errorf("got %d messages while in flight, want 0", len(again))
	}
	attrs := queueAttributes(t, c, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
	if attrs["ApproximateNumberOfMessagesNotVisible"] != "1" || attrs["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("got %v in flight", attrs)
	}
	fake.Advance(30 * time.Second)
	again := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("got %v after the visibility timeout, want the message received a second time", again)
	}
	awstest.Call(t, c.DeleteMessage, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: again[0].ReceiptHandle})
	fake.Advance(time.Minute)
	if left := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url}); len(left) != 0 {
		t.Errorf("got %d messages after delete, want 0", len(left))
	}
}

func TestBatches(t *testing.T) {
	_, c, _ := start(t)
	url := createQueue(t, c, "batch", nil)
	out := awstest.Call(t, c.SendMessageBatch, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two"), DelaySeconds: 1000},
		{Id: aws.String("c"), MessageBody: aws.String("three")},
	}})
	if len(out.Successful) != 2 || len(out.Failed) != 1 || *out.Failed[0].Id != "b" || *out.Failed[0].Code != "InvalidParameterValue" {
		t.Errorf("got successful %d, failed %+v; want a and c sent, b failed", len(out.Successful), out.Failed)
	}
	msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if diff := cmp.Diff([]string{"one", "three"}, bodies(msgs)); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
	var entries []types.DeleteMessageBatchRequestEntry
	var changes []types.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range msgs {
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("d", i)), ReceiptHandle: m.ReceiptHandle})
		changes = append(changes, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint("v", i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60})
	}
	changes = append(changes, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String("bad"), ReceiptHandle: aws.String("nope")})
	vis := awstest.Call(t, c.ChangeMessageVisibilityBatch, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: changes})
	if len(vis.Successful) != 2 || len(vis.Failed) != 1 || *vis.Failed[0].Code != "ReceiptHandleIsInvalid" {
		t.Errorf("got visibility changes %d ok, failed %+v", len(vis.Successful), vis.Failed)
	}
	del := awstest.Call(t, c.DeleteMessageBatch, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: entries})
	if len(del.Successful) != 2 || len(del.Failed) != 0 {
		t.Errorf("got deletes %d ok, failed %+v", len(del.Successful), del.Failed)
	}
}

func TestLongPollAnswersWhenAMessageArrives(t *testing.T) {
	_, c, fake := start(t)
	url := createQueue(t, c, "poll", nil)
	got := make(chan []types.Message, 1)
	waiters := fake.Waiters() // the controllers' timers
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
		if err != nil {
			t.Error(err)
		}
		got <- out.Messages
	}()
	awstest.WaitFor(t, "the receive to wait", func() bool { return fake.Waiters() > waiters })
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("now")})
	// No clock advance: the send itself wakes the poll.
	if msgs := <-got; len(msgs) != 1 || *msgs[0].Body != "now" {
		t.Errorf("got %v, want the message sent while polling", bodies(msgs))
	}
	// With nothing sent, the poll answers empty when its wait ends.
	waiters = fake.Waiters()
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 5})
		if err != nil {
			t.Error(err)
		}
		got <- out.Messages
	}()
	awstest.WaitFor(t, "the receive to wait", func() bool { return fake.Waiters() > waiters })
	// Another timer (a controller's) may have been what WaitFor saw, the
	// receive not waiting yet: the clock moves on until it answers.
	fake.Advance(5 * time.Second)
	deadline := time.After(time.Minute)
	for {
		select {
		case msgs := <-got:
			if len(msgs) != 0 {
				t.Errorf("got %v at the end of the wait, want none", bodies(msgs))
			}
			return
		case <-time.After(100 * time.Millisecond):
			fake.Advance(5 * time.Second)
		case <-deadline:
			t.Fatal("the receive did not answer at the end of its wait")
		}
	}
}

func TestDelayAndRetention(t *testing.T) {
	_, c, fake := start(t)
	url := createQueue(t, c, "delayed", map[string]string{"DelaySeconds": "10", "MessageRetentionPeriod": "60"})
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("later")})
	// A new queue delay holds back only the messages sent after it.
	awstest.Call(t, c.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "0"}})
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("now")})
	attrs := queueAttributes(t, c, url, "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages")
	if attrs["ApproximateNumberOfMessagesDelayed"] != "1" || attrs["ApproximateNumberOfMessages"] != "1" {
		t.Errorf("got %v, want one delayed and one visible", attrs)
	}
	fake.Advance(10 * time.Second)
	if got := queueAttributes(t, c, url, "ApproximateNumberOfMessages"); got["ApproximateNumberOfMessages"] != "2" {
		t.Errorf("got %v after the delay, want 2 visible", got)
	}
	fake.Advance(50 * time.Second)
	if msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10}); len(msgs) != 0 {
		t.Errorf("got %v after the retention period, want none", bodies(msgs))
	}
}

func TestFIFO(t *testing.T) {
	_, c, fake := start(t)
	url := createQueue(t, c, "jobs.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	send := func(group, body string) *sqs.SendMessageOutput {
		return awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: &group})
	}
	first := send("g1", "a1")
	if dup := send("g1", "a1"); *dup.MessageId != *first.MessageId {
		t.Errorf("got a new message ID %s for a duplicate, want %s", *dup.MessageId, *first.MessageId)
	}
	send("g1", "a2")
	send("g2", "b1")
	send("g1", "a3")
	// One receive takes the available messages in order, per group.
	msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 2})
	if diff := cmp.Diff([]string{"a1", "a2"}, bodies(msgs)); diff != "" {
		t.Errorf("first receive (-want +got):\n%s", diff)
	}
	// While g1 has messages in flight, only g2's are handed out.
	next := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if diff := cmp.Diff([]string{"b1"}, bodies(next)); diff != "" {
		t.Errorf("second receive (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.DeleteMessage, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: msgs[0].ReceiptHandle})
	if got := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url}); len(got) != 0 {
		t.Errorf("got %v while a2 is in flight, want nothing of g1", bodies(got))
	}
	// a2 comes back when its visibility ends, before a3.
	fake.Advance(30 * time.Second)
	again := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"MessageGroupId", "SequenceNumber"}})
	if diff := cmp.Diff([]string{"a2", "b1", "a3"}, bodies(again)); diff != "" {
		t.Errorf("after the timeout (-want +got):\n%s", diff)
	}
	if again[0].Attributes["MessageGroupId"] != "g1" || again[0].Attributes["SequenceNumber"] == "" {
		t.Errorf("got system attributes %v", again[0].Attributes)
	}
	// A retried receive attempt gets the same messages and receipts.
	fake.Advance(30 * time.Second)
	attempt := &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 1, ReceiveRequestAttemptId: aws.String("try-1")}
	tried := receive(t, c, attempt)
	retried := receive(t, c, attempt)
	if len(tried) != 1 || len(retried) != 1 || *retried[0].ReceiptHandle != *tried[0].ReceiptHandle {
		t.Errorf("got %v then %v, want the same message and receipt handle twice", bodies(tried), bodies(retried))
	}
	// Deduplication lasts five minutes.
	fake.Advance(5 * time.Minute)
	if fresh := send("g1", "a1"); *fresh.MessageId == *first.MessageId {
		t.Error("got the duplicate's ID after five minutes, want a new message")
	}
}

func TestDeadLetterQueueAndRedrive(t *testing.T) {
	_, c, fake := start(t)
	dlq := createQueue(t, c, "dead", nil)
	dlqARN := queueAttributes(t, c, dlq, "QueueArn")["QueueArn"]
	src := createQueue(t, c, "src", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"2"}`, "VisibilityTimeout": "1"})
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("poison")})
	for i := 0; i < 2; i++ {
		if msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &src}); len(msgs) != 1 {
			t.Fatalf("receive %d: got %d messages, want 1", i+1, len(msgs))
		}
		fake.Advance(time.Second)
	}
	// The third receive finds it over maxReceiveCount: it moves to the DLQ.
	if msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &src}); len(msgs) != 0 {
		t.Fatalf("got %v, want the message moved to the dead-letter queue", bodies(msgs))
	}
	sources := awstest.Call(t, c.ListDeadLetterSourceQueues, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlq}).QueueUrls
	if diff := cmp.Diff([]string{src}, sources); diff != "" {
		t.Errorf("dead-letter source queues (-want +got):\n%s", diff)
	}
	dead := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &dlq,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"DeadLetterQueueSourceArn"}})
	if len(dead) != 1 || *dead[0].Body != "poison" || dead[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:src" {
		t.Fatalf("got %v in the dead-letter queue, want the poison message from src", dead)
	}
	// Released, then redriven: the message goes back to its source.
	awstest.Call(t, c.ChangeMessageVisibility, &sqs.ChangeMessageVisibilityInput{QueueUrl: &dlq, ReceiptHandle: dead[0].ReceiptHandle, VisibilityTimeout: 0})
	task := awstest.Call(t, c.StartMessageMoveTask, &sqs.StartMessageMoveTaskInput{SourceArn: &dlqARN})
	if task.TaskHandle == nil {
		t.Fatal("got no task handle")
	}
	awstest.WaitFor(t, "the move task to complete", func() bool {
		out := awstest.Call(t, c.ListMessageMoveTasks, &sqs.ListMessageMoveTasksInput{SourceArn: &dlqARN})
		return len(out.Results) == 1 && *out.Results[0].Status == "COMPLETED" && out.Results[0].ApproximateNumberOfMessagesMoved == 1
	})
	back := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &src})
	if diff := cmp.Diff([]string{"poison"}, bodies(back)); diff != "" {
		t.Errorf("redriven (-want +got):\n%s", diff)
	}
}

func TestPurgeAndPermissions(t *testing.T) {
	srv, c, fake := start(t)
	url := createQueue(t, c, "purge", nil)
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")})
	awstest.Call(t, c.PurgeQueue, &sqs.PurgeQueueInput{QueueUrl: &url})
	_, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AWS.SimpleQueueService.PurgeQueueInProgress", Message: "Only one PurgeQueue operation on purge is allowed every 60 seconds."})
	fake.Advance(time.Minute)
	awstest.Call(t, c.PurgeQueue, &sqs.PurgeQueueInput{QueueUrl: &url})
	if n := queueAttributes(t, c, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"]; n != "0" {
		t.Errorf("got %s messages after purge, want 0", n)
	}
	// Another account needs the queue policy's Allow.
	other := sqs.NewFromConfig(srv.ConfigWith("111122223333", "secret", ""))
	_, err = other.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("from afar")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied", Message: "Access to the resource " + url + " is denied."})
	awstest.Call(t, c.AddPermission, &sqs.AddPermissionInput{QueueUrl: &url, Label: aws.String("share"),
		AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"}})
	awstest.Call(t, other.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("from afar")})
	_, err = other.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied"})
	pol := queueAttributes(t, c, url, "Policy")["Policy"]
	if !strings.Contains(pol, `"Sid":"share"`) || !strings.Contains(pol, "arn:aws:iam::111122223333:root") {
		t.Errorf("got policy %s, want the share statement", pol)
	}
	_, err = c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &url, Label: aws.String("share"),
		AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterValue", Message: "Already exists."})
	awstest.Call(t, c.RemovePermission, &sqs.RemovePermissionInput{QueueUrl: &url, Label: aws.String("share")})
	if pol := queueAttributes(t, c, url, "Policy")["Policy"]; pol != "" {
		t.Errorf("got policy %s after removing the only statement, want none", pol)
	}
}

func TestBadInput(t *testing.T) {
	srv, c, _ := start(t)
	url := createQueue(t, c, "strict", map[string]string{"MaximumMessageSize": "1024"})
	fifo := createQueue(t, c, "strict.fifo", map[string]string{"FifoQueue": "true"})
	missing := srv.URL + "/000000000000/missing"
	big := strings.Repeat("x", 1025)
	invalid := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "InvalidParameterValue", Status: 400, Message: msg}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "no such queue", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &missing, MessageBody: aws.String("x")}),
			Want: awstest.APIError{Code: "AWS.SimpleQueueService.NonExistentQueue", Status: 400}},
		{Name: "different attributes", Call: awstest.Fails(c.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("strict")}),
			Want: awstest.APIError{Code: "QueueAlreadyExists", Message: "different value for attribute MaximumMessageSize"}},
		{Name: "bad name", Call: awstest.Fails(c.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("no spaces")}),
			Want: invalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")},
		{Name: "fifo name without attribute", Call: awstest.Fails(c.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("x.fifo")}),
			Want: invalid("must end with .fifo suffix")},
		{Name: "attribute out of range", Call: awstest.Fails(c.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("v"),
			Attributes: map[string]string{"VisibilityTimeout": "43201"}}),
			Want: awstest.APIError{Code: "InvalidAttributeValue", Message: "Invalid value for the parameter VisibilityTimeout."}},
		{Name: "unknown attribute", Call: awstest.Fails(c.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url,
			Attributes: map[string]string{"Colour": "red"}}),
			Want: awstest.APIError{Code: "InvalidAttributeName", Message: "Unknown Attribute Colour."}},
		{Name: "too big", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &big}),
			Want: invalid("Message must be shorter than 1024 bytes.")},
		{Name: "bad attribute type", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Float"), StringValue: aws.String("1")}}}),
			Want: invalid("The type of message (user) attribute 'a' is invalid.")},
		{Name: "not a number", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("one")}}}),
			Want: invalid("Can't cast the value of message (user) attribute 'n' to a number.")},
		{Name: "fifo without group", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x")}),
			Want: awstest.APIError{Code: "MissingParameter", Message: "The request must contain the parameter MessageGroupId."}},
		{Name: "fifo without deduplication", Call: awstest.Fails(c.SendMessage, &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"),
			MessageGroupId: aws.String("g")}),
			Want: invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")},
		{Name: "too many to receive", Call: awstest.Fails(c.ReceiveMessage, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11}),
			Want: invalid("Value 11 for parameter MaxNumberOfMessages is invalid.")},
		{Name: "bad receipt handle", Call: awstest.Fails(c.DeleteMessage, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("x")}),
			Want: awstest.APIError{Code: "ReceiptHandleIsInvalid"}},
		{Name: "empty batch", Call: awstest.Fails(c.SendMessageBatch, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{}}),
			Want: awstest.APIError{Code: "AWS.SimpleQueueService.EmptyBatchRequest"}},
		{Name: "repeated batch ids", Call: awstest.Fails(c.SendMessageBatch, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("x")}, {Id: aws.String("a"), MessageBody: aws.String("y")}}}),
			Want: awstest.APIError{Code: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", Message: "Id a repeated."}},
		{Name: "redrive to a missing queue", Call: awstest.Fails(c.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url,
			Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":3}`}}),
			Want: invalid("Dead letter target does not exist.")},
	})
}

func TestMessagesSurviveRestart(t *testing.T) {
	srv, c, _ := start(t)
	url := createQueue(t, c, "durable", nil)
	awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("kept")})
	fifo := createQueue(t, c, "durable.fifo", map[string]string{"FifoQueue": "true"})
	send := &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("once"), MessageGroupId: aws.String("g"),
		MessageDeduplicationId: aws.String("d-1")}
	first := awstest.Call(t, c.SendMessage, send)
	got := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &fifo})
	awstest.Call(t, c.DeleteMessage, &sqs.DeleteMessageInput{QueueUrl: &fifo, ReceiptHandle: got[0].ReceiptHandle})
	srv.Restart(t)
	c = sqs.NewFromConfig(srv.Config())
	fifo = *awstest.Call(t, c.GetQueueUrl, &sqs.GetQueueUrlInput{QueueName: aws.String("durable.fifo")}).QueueUrl
	send.QueueUrl = &fifo
	// The deduplication ID outlives its message and the restart.
	again := awstest.Call(t, c.SendMessage, send)
	if *again.MessageId != *first.MessageId {
		t.Errorf("got message %s for a duplicate sent after a restart, want %s", *again.MessageId, *first.MessageId)
	}
	if left := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &fifo}); len(left) != 0 {
		t.Errorf("got %v, want the duplicate dropped", bodies(left))
	}
	url = *awstest.Call(t, c.GetQueueUrl, &sqs.GetQueueUrlInput{QueueName: aws.String("durable")}).QueueUrl
	msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url})
	if diff := cmp.Diff([]string{"kept"}, bodies(msgs)); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}

func TestQueueDepthInCloudWatch(t *testing.T) {
	srv, c, fake := start(t)
	url := createQueue(t, c, "worker", nil)
	for range 3 {
		awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("job")})
	}
	cw := cloudwatch.NewFromConfig(srv.Config())
	visible := func() float64 {
		out := awstest.Call(t, cw.GetMetricStatistics, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/SQS"),
			MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("worker")}},
			StartTime:  aws.Time(fake.Now().Add(-time.Hour)), EndTime: aws.Time(fake.Now().Add(time.Minute)),
			Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum}})
		max := -1.0
		for _, d := range out.Datapoints {
			max = aws.ToFloat64(d.Maximum)
		}
		return max
	}
	awstest.WaitFor(t, "AWS/SQS ApproximateNumberOfMessagesVisible to be 3", func() bool {
		fake.Advance(time.Minute)
		return visible() == 3
	})
}

// TestFIFOOrderUnderConcurrentConsumers has four consumers receive and
// delete from one FIFO queue at once: each group's messages are processed
// in the order they were sent, whoever receives them.
func TestFIFOOrderUnderConcurrentConsumers(t *testing.T) {
	_, c, _ := start(t)
	url := createQueue(t, c, "ordered.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	const groups, perGroup = 3, 20
	for i := range perGroup {
		var entries []types.SendMessageBatchRequestEntry
		for g := range groups {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("g", g)),
				MessageBody: aws.String(fmt.Sprintf("%d-%02d", g, i)), MessageGroupId: aws.String(fmt.Sprint(g))})
		}
		awstest.Call(t, c.SendMessageBatch, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
	}
	var mu sync.Mutex
	processed := map[string][]string{} // by group, in the order consumers finished them
	done := make(chan struct{})
	giveUp := time.Now().Add(time.Minute) // a message that stays in flight fails the test, not the run
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				mu.Lock()
				n := 0
				for _, bodies := range processed {
					n += len(bodies)
				}
				mu.Unlock()
				if n == groups*perGroup {
					return
				}
				if time.Now().After(giveUp) {
					t.Errorf("consumers processed %d of %d messages in a minute", n, groups*perGroup)
					return
				}
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 3,
					MessageSystemAttributeNames: []types.MessageSystemAttributeName{"MessageGroupId"}})
				if err != nil {
					t.Error(err)
					return
				}
				for _, m := range out.Messages {
					// Record before deleting: once deleted, the group's
					// next message may go to another consumer.
					mu.Lock()
					g := m.Attributes["MessageGroupId"]
					processed[g] = append(processed[g], *m.Body)
					mu.Unlock()
					if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	for g := range groups {
		var want []string
		for i := range perGroup {
			want = append(want, fmt.Sprintf("%d-%02d", g, i))
		}
		if diff := cmp.Diff(want, processed[fmt.Sprint(g)]); diff != "" {
			t.Errorf("group %d (-want +got):\n%s", g, diff)
		}
	}
}
