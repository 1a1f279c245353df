package sns_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
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
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("build-failures")}).TopicArn
	rule := awstest.Call(t, eb.PutRule, &eventbridge.PutRuleInput{Name: aws.String("failed-builds"),
		EventPattern: aws.String(`{"source":["app.builds"],"detail":{"build-status":["FAILED"]}}`)}).RuleArn
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},
		"Action":"sns:Publish","Resource":"` + aws.ToString(topic) + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(rule) + `"}}}]}`
	awstest.Call(t, c.SetTopicAttributes, &sns.SetTopicAttributesInput{TopicArn: topic, AttributeName: aws.String("Policy"), AttributeValue: &policy})
	ep := confirmedEndpoint(t, c, topic, map[string]string{"FilterPolicy": `{"detail":{"project":["web"]}}`, "FilterPolicyScope": "MessageBody"})
	q := sqs.NewFromConfig(srv.Config())
	queueURL, queueARN := queue(t, q, "failures", nil, aws.ToString(topic))
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sqs"), Endpoint: &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
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

// An alarm's actions publish its state changes to a topic of its account,
// which the default topic policy lets CloudWatch do.
func TestAlarmPublishesToTopic(t *testing.T) {
	srv, c, _ := start(t)
	cw := cloudwatch.NewFromConfig(srv.Config())
	topic := awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("alarms")}).TopicArn
	ep := confirmedEndpoint(t, c, topic, nil)

	awstest.Call(t, cw.PutMetricAlarm, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("high-cpu"), Namespace: aws.String("App"),
		MetricName: aws.String("CPU"), Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(80), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{aws.ToString(topic)}})
	awstest.Call(t, cw.SetAlarmState, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("high-cpu"), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("testing the pager")})

	n := decode(t, ep.waitFor(t, 2)[1].body)
	if n["Subject"] != `ALARM: "high-cpu" in US East (N. Virginia)` {
		t.Errorf("Subject: got %q", n["Subject"])
	}
	var alarm map[string]any
	if err := json.Unmarshal([]byte(n["Message"]), &alarm); err != nil {
		t.Fatalf("Message %q: %v", n["Message"], err)
	}
	if alarm["AlarmName"] != "high-cpu" || alarm["NewStateValue"] != "ALARM" || alarm["NewStateReason"] != "testing the pager" ||
		alarm["AWSAccountId"] != account || alarm["Region"] != "US East (N. Virginia)" {
		t.Errorf("alarm notification: got %v", alarm)
	}
}
