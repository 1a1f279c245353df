package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"overcast/internal/awstest"
	"overcast/internal/bus"
)

// allowService is a resource policy letting an AWS service principal
// perform action on resource for the rule or topic sourceARN.
func allowService(principal, action, resource, sourceARN string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},`+
		`"Action":%q,"Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, principal, action, resource, sourceARN)
}

// queue creates a queue, with a policy when policy is not empty, and
// returns its URL and ARN.
func queue(t *testing.T, q *sqs.Client, name string, policy func(arn string) string) (string, string) {
	t.Helper()
	url := awstest.Call(t, q.CreateQueue, &sqs.CreateQueueInput{QueueName: &name}).QueueUrl
	arn := "arn:aws:sqs:us-east-1:" + account + ":" + name
	if policy != nil {
		awstest.Call(t, q.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: url,
			Attributes: map[string]string{"Policy": policy(arn)}})
	}
	return *url, arn
}

// receive waits for a message in the queue and returns it.
func receive(t *testing.T, q *sqs.Client, url string) sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	awstest.WaitFor(t, "a message in "+url, func() bool {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url,
			MessageAttributeNames: []string{"All"}})
		got = out.Messages
		return err == nil && len(got) > 0
	})
	return got[0]
}

// TestFailedBuildNotifies is the scenario: a failed CodeBuild
// build's event (published on the internal bus as CodeBuild will) matches
// a rule whose targets are an SNS topic, which fans out to a queue, and a
// queue directly; a third target, a queue whose policy does not let
// EventBridge send, sends the event to its dead-letter queue at once.
func TestFailedBuildNotifies(t *testing.T) {
	srv, c, _ := start(t)
	q := sqs.NewFromConfig(srv.Config())
	topics := sns.NewFromConfig(srv.Config())
	ruleARN := "arn:aws:events:us-east-1:" + account + ":rule/failed-builds"

	topicARN := *awstest.Call(t, topics.CreateTopic, &sns.CreateTopicInput{Name: aws.String("builds")}).TopicArn
	awstest.Call(t, topics.SetTopicAttributes, &sns.SetTopicAttributesInput{TopicArn: &topicARN, AttributeName: aws.String("Policy"),
		AttributeValue: aws.String(allowService("events.amazonaws.com", "sns:Publish", topicARN, ruleARN))})
	fanURL, fanARN := queue(t, q, "build-alerts", func(arn string) string {
		return allowService("sns.amazonaws.com", "sqs:SendMessage", arn, topicARN)
	})
	awstest.Call(t, topics.Subscribe, &sns.SubscribeInput{TopicArn: &topicARN, Protocol: aws.String("sqs"), Endpoint: &fanARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	directURL, directARN := queue(t, q, "build-failures", func(arn string) string {
		return allowService("events.amazonaws.com", "sqs:SendMessage", arn, ruleARN)
	})
	_, closedARN := queue(t, q, "closed", nil)
	dlqURL, dlqARN := queue(t, q, "events-dlq", func(arn string) string {
		return allowService("events.amazonaws.com", "sqs:SendMessage", arn, ruleARN)
	})

	awstest.Call(t, c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("failed-builds"),
		EventPattern: aws.String(`{"source":["aws.codebuild"],"detail-type":["CodeBuild Build State Change"],"detail":{"build-status":["FAILED"]}}`)})
	awstest.Call(t, c.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("failed-builds"), Targets: []types.Target{
		{Id: aws.String("topic"), Arn: &topicARN},
		{Id: aws.String("queue"), Arn: &directARN, InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"project": "$.detail.project-name", "status": "$.detail.build-status"},
			InputTemplate: aws.String(`"Build of <project> <status>"`)}},
		{Id: aws.String("closed"), Arn: &closedARN, DeadLetterConfig: &types.DeadLetterConfig{Arn: &dlqARN}},
	}})

	buildARN := "arn:aws:codebuild:us-east-1:" + account + ":build/app:1"
	for _, status := range []string{"SUCCEEDED", "FAILED"} {
		detail, _ := json.Marshal(map[string]any{"build-status": status, "project-name": "app", "build-id": buildARN,
			"current-phase": "COMPLETED", "current-phase-context": "[]", "version": "1"})
		err := srv.Main.Bus().Publish(context.Background(), nil, bus.Event{Source: "aws.codebuild", Type: "CodeBuild Build State Change",
			Account: account, Region: "us-east-1", Resources: []string{buildARN}, Detail: detail})
		if err != nil {
			t.Fatal(err)
		}
	}

	fanned := receive(t, q, fanURL)
	var ev struct {
		Source     string
		DetailType string `json:"detail-type"`
		Resources  []string
		Detail     map[string]string
	}
	if err := json.Unmarshal([]byte(aws.ToString(fanned.Body)), &ev); err != nil {
		t.Fatalf("fanned-out body %s: %v", aws.ToString(fanned.Body), err)
	}
	if ev.Source != "aws.codebuild" || ev.DetailType != "CodeBuild Build State Change" || ev.Detail["build-status"] != "FAILED" ||
		len(ev.Resources) != 1 || ev.Resources[0] != buildARN {
		t.Errorf("through SNS: got %+v, want the failed build's event", ev)
	}
	if got := aws.ToString(receive(t, q, directURL).Body); got != `"Build of app FAILED"` {
		t.Errorf("direct: got %s, want the transformed input", got)
	}
	dead := receive(t, q, dlqURL)
	attr := func(name string) string { return aws.ToString(dead.MessageAttributes[name].StringValue) }
	if attr("ERROR_CODE") != "NO_PERMISSIONS" || attr("RULE_ARN") != ruleARN || attr("TARGET_ARN") != closedARN ||
		!strings.Contains(aws.ToString(dead.Body), `"FAILED"`) {
		t.Errorf("dead letter: got %s with %s %s %s", aws.ToString(dead.Body), attr("ERROR_CODE"), attr("RULE_ARN"), attr("TARGET_ARN"))
	}
}
