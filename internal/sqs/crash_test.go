package sqs_test

import (
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/childtest"
)

// crashChildEnv, when set to a data dir, makes TestAcknowledgedSendSurvivesKill
// the child process that sends and is killed.
const crashChildEnv = "OVERCAST_SQS_CRASH_CHILD"

// TestAcknowledgedSendSurvivesKill sends messages in a child overcast,
// kills it with SIGKILL as soon as the sends are acknowledged, and receives
// them from a new overcast on the same data dir.
func TestAcknowledgedSendSurvivesKill(t *testing.T) {
	if childtest.IsChild(t, crashChildEnv, crashChild) {
		return
	}
	dir := t.TempDir()
	childtest.RunKilled(t, crashChildEnv, dir)
	srv := awstest.Start(t, awstest.InDir(dir))
	c := sqs.NewFromConfig(srv.Config())
	url := *awstest.Call(t, c.GetQueueUrl, &sqs.GetQueueUrlInput{QueueName: aws.String("crash")}).QueueUrl
	msgs := receive(t, c, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if diff := cmp.Diff([]string{"one", "two", "three"}, bodies(msgs)); diff != "" {
		t.Errorf("after kill -9 (-want +got):\n%s", diff)
	}
}

func crashChild(t *testing.T, dir string) {
	srv := awstest.Start(t, awstest.InDir(dir))
	c := sqs.NewFromConfig(srv.Config())
	url := createQueue(t, c, "crash", nil)
	for _, body := range []string{"one", "two", "three"} {
		awstest.Call(t, c.SendMessage, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body)})
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
}
