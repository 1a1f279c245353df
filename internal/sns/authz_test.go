package sns

import (
	"testing"

	api "overcast/internal/api/sns"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:sns:us-east-1:123456789012:alerts"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "CreateTopic", In: &api.CreateTopicInput{Name: new("alerts")}, Resources: []string{arn}},
		{Op: "Publish", In: &api.PublishInput{TargetArn: new(arn)}, Resources: []string{arn}},
		{Op: "PublishBatch", In: &api.PublishBatchInput{TopicArn: new(arn)}, Action: "sns:Publish", Resources: []string{arn}},
		{Op: "Unsubscribe", In: &api.UnsubscribeInput{SubscriptionArn: new(arn + ":0d5c")}, Resources: []string{"*"}},
	})
}
