package events_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/childtest"
)

// crashChildEnv, when set to a data dir, makes TestAcceptedEventsSurviveKill
// the child process that puts events and is killed.
const crashChildEnv = "OVERCAST_EVENTS_CRASH_CHILD"

// TestAcceptedEventsSurviveKill puts events in a child overcast, kills it
// with SIGKILL as soon as PutEvents answers, and finds every event in the
// rule's queue from a new overcast on the same data dir: delivered before
// the kill, or by the restarted delivery controller.
func TestAcceptedEventsSurviveKill(t *testing.T) {
	dir := childtest.CrashedDir(t, crashChildEnv, crashChild)
	if dir == "" {
		return // the child
	}
	srv := awstest.Start(t, awstest.InDir(dir))
	q := sqs.NewFromConfig(srv.Config())
	url := *awstest.Call(t, q.GetQueueUrl, &sqs.GetQueueUrlInput{QueueName: aws.String("crash")}).QueueUrl
	seen := map[string]bool{}
	awstest.WaitFor(t, "the three events", func() bool {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			return false
		}
		for _, m := range out.Messages {
			var ev struct{ Detail struct{ N string } }
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &ev) == nil {
				seen[ev.Detail.N] = true
			}
		}
		return len(seen) == 3
	})
	if diff := cmp.Diff(map[string]bool{"one": true, "two": true, "three": true}, seen); diff != "" {
		t.Errorf("after kill -9 (-want +got):\n%s", diff)
	}
}

func crashChild(t *testing.T, dir string) {
	srv := awstest.Start(t, awstest.InDir(dir))
	c := eventbridge.NewFromConfig(srv.Config())
	q := sqs.NewFromConfig(srv.Config())
	ruleARN := "arn:aws:events:us-east-1:" + account + ":rule/crash"
	_, queueARN := queue(t, q, "crash", func(arn string) string {
		return allowService("events.amazonaws.com", "sqs:SendMessage", arn, ruleARN)
	})
	awstest.Call(t, c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("crash"), EventPattern: aws.String(`{"source":["crash"]}`)})
	awstest.Call(t, c.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("crash"), Targets: []types.Target{{Id: aws.String("q"), Arn: &queueARN}}})
	var entries []types.PutEventsRequestEntry
	for _, n := range []string{"one", "two", "three"} {
		entries = append(entries, types.PutEventsRequestEntry{Source: aws.String("crash"), DetailType: aws.String("Crash"),
			Detail: aws.String(`{"n":"` + n + `"}`)})
	}
	awstest.Call(t, c.PutEvents, &eventbridge.PutEventsInput{Entries: entries})
	syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
}
