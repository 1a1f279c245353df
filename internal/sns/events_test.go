package sns_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"overcast/internal/awstest"
)

// The scenario: a rule matching failed builds publishes to a topic
// whose policy lets EventBridge in; the topic fans out to an SQS queue and
// an HTTP endpoint.
func TestEventBridgeRuleToTopic(t *testing.T) {
	srv, c, _ := start(t)
	eb := eventbridge.NewFromConfig(srv.Config())
	ep := newEndpoint(t)
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("build-failures")}).TopicArn
	rule := awstest.Call(t, eb.PutRule, &eventbridge.PutRuleInput{Name: aws.String("failed-builds"),
		EventPattern: aws.String(`{"source":["app.builds"],"detail":{"build-status":["FAILED"]}}`)}).RuleArn
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},
		"Action":"sns:Publish","Resource":"` + aws.ToString(topic) + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(rule) + `"}}}]}`
	awstest.Call(t, c.SetTopicAttributes, &sns.SetTopicAttributesInput{TopicArn: topic, AttributeName: aws.String("Policy"), AttributeValue: &policy})
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("http"), Endpoint: &ep.URL,
		Attributes: map[string]string{"FilterPolicy": `{"detail":{"project":["web"]}}`, "FilterPolicyScope": "MessageBody"}})
	q := sqs.NewFromConfig(srv.Config())
	queueURL, queueARN := queue(t, q, "failures", nil, aws.ToString(topic))
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sqs"), Endpoint: &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	conf := decode(t, ep.waitFor(t, 1)[0].body)
	awstest.Call(t, c.ConfirmSubscription, &sns.ConfirmSubscriptionInput{TopicArn: topic, Token: aws.String(conf["Token"])})
	awstest.Call(t, eb.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("failed-builds"),
		Targets: []ebtypes.Target{{Id: aws.String("topic"), Arn: topic}}})

	for _, detail := range []string{`{"build-status":"SUCCEEDED","project":"web"}`, `{"build-status":"FAILED","project":"api"}`,
		`{"build-status":"FAILED","project":"web"}`} {
		out := awstest.Call(t, eb.PutEvents, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("app.builds"), DetailType: aws.String("Build State Change"), Detail: aws.String(detail)}}})
		if out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %d failed", out.FailedEntryCount)
		}
	}
	n := decode(t, ep.waitFor(t, 2)[1].body)
	if n["Type"] != "Notification" || !strings.Contains(n["Message"], `"project":"web"`) || !strings.Contains(n["Message"], `"FAILED"`) {
		t.Errorf("notification: got %v, want the failed web build's event", n)
	}
	// The queue has no filter: both failed builds, the rule's events as is.
	got := receive(t, q, queueURL, 2)
	for _, m := range got {
		if body := aws.ToString(m.Body); !strings.Contains(body, `"detail-type":"Build State Change"`) || !strings.Contains(body, `"FAILED"`) {
			t.Errorf("queued event: got %s, want a failed build's event", body)
		}
	}
}
