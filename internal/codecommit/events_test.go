package codecommit_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"overcast/internal/awstest"
)

// TestStateChangeReachesEventBridge: an EventBridge rule on "CodeCommit
// Repository State Change" for one branch sends an API commit's event to
// a queue, in AWS's shape.
func TestStateChangeReachesEventBridge(t *testing.T) {
	srv, c := start(t)
	repo := createRepository(t, c, "app")
	queues, rules := sqs.NewFromConfig(srv.Config()), eventbridge.NewFromConfig(srv.Config())
	queueARN, ruleARN := "arn:aws:sqs:us-east-1:000000000000:commits", "arn:aws:events:us-east-1:000000000000:rule/commits"
	queueURL := awstest.Call(t, queues.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("commits"), Attributes: map[string]string{
		"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage",` +
			`"Resource":"` + queueARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + ruleARN + `"}}}]}`}}).QueueUrl
	awstest.Call(t, rules.PutRule, &eventbridge.PutRuleInput{Name: aws.String("commits"), EventPattern: aws.String(
		`{"source":["aws.codecommit"],"detail-type":["CodeCommit Repository State Change"],"detail":{"referenceName":["main"]}}`)})
	awstest.Call(t, rules.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("commits"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: &queueARN}}})

	commit := putFile(t, c, "app", "main", "", "a.txt", "a")
	var body string
	awstest.WaitFor(t, "the commit's event in the queue", func() bool {
		out, err := queues.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: queueURL})
		if err == nil && len(out.Messages) > 0 {
			body = aws.ToString(out.Messages[0].Body)
		}
		return body != ""
	})
	var ev struct {
		Source     string            `json:"source"`
		DetailType string            `json:"detail-type"`
		Resources  []string          `json:"resources"`
		Detail     map[string]string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("event %s: %v", body, err)
	}
	d := ev.Detail
	if ev.Source != "aws.codecommit" || ev.DetailType != "CodeCommit Repository State Change" || len(ev.Resources) != 1 ||
		ev.Resources[0] != aws.ToString(repo.Arn) || d["event"] != "referenceCreated" || d["commitId"] != commit ||
		d["referenceType"] != "branch" || d["referenceFullName"] != "refs/heads/main" || d["repositoryName"] != "app" ||
		d["repositoryId"] != aws.ToString(repo.RepositoryId) {
		t.Errorf("the commit's event: got %s", body)
	}
}
