package sns_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"overcast/internal/awstest"
)

// queue makes a queue whose policy lets topic's SNS deliveries in (when
// allow is set) and returns its URL and ARN.
func queue(t *testing.T, q *sqs.Client, name string, attrs map[string]string, allowTopic string) (string, string) {
	t.Helper()
	url := awstest.Call(t, q.CreateQueue, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs}).QueueUrl
	arn := awstest.Call(t, q.GetQueueAttributes, &sqs.GetQueueAttributesInput{QueueUrl: url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}}).Attributes["QueueArn"]
	if allowTopic != "" {
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",
			"Resource":"` + arn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + allowTopic + `"}}}]}`
		awstest.Call(t, q.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: url, Attributes: map[string]string{"Policy": policy}})
	}
	return *url, arn
}

// receive waits for n messages in the queue.
func receive(t *testing.T, q *sqs.Client, url string, n int) []sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	awstest.WaitFor(t, "messages in "+url, func() bool {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Messages...)
		return len(got) >= n
	})
	return got
}

func TestDeliveryToSQS(t *testing.T) {
	srv, c, _ := start(t)
	q := sqs.NewFromConfig(srv.Config())
	topic := aws.ToString(awstest.Call(t, c.CreateTopic, &sns.CreateTopicInput{Name: aws.String("orders")}).TopicArn)
	wrappedURL, wrapped := queue(t, q, "wrapped", nil, topic)
	rawURL, raw := queue(t, q, "raw", nil, topic)
	dlqURL, dlq := queue(t, q, "dlq", nil, topic)
	_, closed := queue(t, q, "closed", nil, "") // no policy: SNS may not send
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &wrapped})
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &raw,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	awstest.Call(t, c.Subscribe, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &closed,
		Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq + `"}`}})

	pub := awstest.Call(t, c.Publish, &sns.PublishInput{TopicArn: &topic, Message: aws.String("order 7"),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("new")}}})
	env := decode(t, aws.ToString(receive(t, q, wrappedURL, 1)[0].Body))
	if env["Type"] != "Notification" || env["MessageId"] != aws.ToString(pub.MessageId) || env["Message"] != "order 7" {
		t.Errorf("envelope in the queue: got %v", env)
	}
	verify(t, env)
	rm := receive(t, q, rawURL, 1)[0]
	if aws.ToString(rm.Body) != "order 7" || aws.ToString(rm.MessageAttributes["kind"].StringValue) != "new" {
		t.Errorf("raw delivery: got %q %v", aws.ToString(rm.Body), rm.MessageAttributes)
	}
	dead := receive(t, q, dlqURL, 1)[0]
	if !strings.Contains(aws.ToString(dead.Body), aws.ToString(pub.MessageId)) || aws.ToString(dead.MessageAttributes["ErrorCode"].StringValue) == "" {
		t.Errorf("dead letter of the queue whose policy refuses SNS: got %q %v", aws.ToString(dead.Body), dead.MessageAttributes)
	}
}
